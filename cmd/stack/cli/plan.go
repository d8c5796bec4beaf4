package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/deploy"
	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
)

type planOptions struct {
	Format           string
	Graph            bool
	DetailedExitcode bool
	Lock             string
}

func init() { register(newPlanCommand) }

func newPlanCommand(g *Globals) *cobra.Command {
	var o planOptions
	cmd := &cobra.Command{
		Use:   "plan [SERVICE...]",
		Short: "Show what `stack up` would change on the engine, and why",
		Long: "Compare the manifest (addresses injected, images resolved) with what the engine runs for\n" +
			"this project and print one line per resource: its action (create, recreate, start, restart,\n" +
			"scale, repair, adopt, remove, unchanged) and the reason. Nothing is changed. --format json\n" +
			"adds the engine calls the run would make and their order; --graph draws those as DOT.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Format != "text" && o.Format != "json" {
				return fmt.Errorf("--format %q: use text or json", o.Format)
			}
			ctx := progress.WithSink(cmd.Context(), g.newRenderer())
			p, t, err := g.open(ctx)
			if err != nil {
				return err
			}
			defer t.Close()
			if o.Lock != "" {
				if p, err = deploy.Pin(p, o.Lock); err != nil {
					return err
				}
			}
			plan, err := t.Plan(ctx, p, deploy.Options{Diff: engine.DiffOptions{Services: args}, Images: image.EnsureOptions{DryRun: true}})
			if err != nil {
				return err
			}
			deploy.ShowPhase(plan, p, deploy.PhaseOptions{})
			switch {
			case o.Graph:
				fmt.Fprint(g.Stdout, plan.Graph.DOT())
			case o.Format == "json":
				b, err := plan.JSON()
				if err != nil {
					return fmt.Errorf("rendering the plan: %w", err)
				}
				fmt.Fprintf(g.Stdout, "%s\n", b)
			default:
				fmt.Fprint(g.Stdout, plan.Text())
			}
			if o.DetailedExitcode && plan.Changes() > 0 {
				return &ExitError{Code: 2}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Format, "format", "text", "output format: text or json")
	f.BoolVar(&o.Graph, "graph", false, "print the engine calls the run would make as a Graphviz DOT graph")
	f.StringVar(&o.Lock, "lock", "", "plan the deploy of a release lock's exact images (a path, or current for the --env's current lock)")
	f.BoolVar(&o.DetailedExitcode, "detailed-exitcode", false, "exit 0 when nothing would change, 2 when something would, 1 on error")
	return cmd
}

// open loads the manifest and connects to the engine of its environment.
func (g *Globals) open(ctx context.Context) (*manifest.Project, *deploy.Target, error) {
	p, err := g.LoadProject(ctx)
	if err != nil {
		return nil, nil, err
	}
	t, err := g.target(p)
	if err != nil {
		return nil, nil, err
	}
	return p, t, nil
}

// builder returns the image builder of p's environment: on its engine, or
// for a Swarm on the local one.
func (g *Globals) builder(p *manifest.Project) (*image.Builder, error) {
	t, err := g.target(p)
	if err != nil {
		return nil, err
	}
	return t.Builder, nil
}

// openFor loads the manifest, checks that services are its services, and
// connects to its engine, whose driver must have the capability T the verb
// needs: the start of every verb that reads or acts on what runs.
func openFor[T any](ctx context.Context, g *Globals, verb string, services []string) (*manifest.Project, *deploy.Target, T, error) {
	var none T
	p, err := g.LoadProject(ctx)
	if err != nil {
		return nil, nil, none, err
	}
	for _, s := range services {
		if err := knownService(p, s); err != nil {
			return nil, nil, none, err
		}
	}
	t, err := g.target(p)
	if err != nil {
		return nil, nil, none, err
	}
	c, err := engine.Capability[T](t.Driver, verb)
	if err != nil {
		t.Close()
		return nil, nil, none, err
	}
	return p, t, c, nil
}

// target connects to the engine of p's environment with the driver its
// orchestrator names, or the one --orchestrator names.
func (g *Globals) target(p *manifest.Project) (*deploy.Target, error) {
	return deploy.Open(p, deploy.WithOrchestrator(g.Orchestrator))
}

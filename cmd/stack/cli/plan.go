package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/engine/docker"
)

type planOptions struct {
	Format           string
	DetailedExitcode bool
}

func init() { register(newPlanCommand) }

func newPlanCommand(g *Globals) *cobra.Command {
	var o planOptions
	cmd := &cobra.Command{
		Use:   "plan [SERVICE...]",
		Short: "Show what `stack up` would change on the engine, and why",
		Long: "Compare the manifest (addresses injected, images resolved) with what the engine runs for\n" +
			"this project and print one line per resource: its action (create, recreate, start, restart,\n" +
			"scale, remove, unchanged) and the reason. Nothing is changed.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Format != "text" && o.Format != "json" {
				return fmt.Errorf("--format %q: use text or json", o.Format)
			}
			plan, _, err := g.makePlan(cmd.Context(), engine.DiffOptions{Services: args})
			if err != nil {
				return err
			}
			if o.Format == "json" {
				b, err := plan.JSON()
				if err != nil {
					return fmt.Errorf("rendering the plan: %w", err)
				}
				fmt.Fprintf(g.Stdout, "%s\n", b)
			} else {
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
	f.BoolVar(&o.DetailedExitcode, "detailed-exitcode", false, "exit 0 when nothing would change, 2 when something would, 1 on error")
	return cmd
}

// makePlan loads the manifest, resolves the images, injects the service
// addresses, observes the engine once and diffs: the decide half of every
// verb that converges (plan, up).
func (g *Globals) makePlan(ctx context.Context, o engine.DiffOptions) (*engine.Plan, *docker.Driver, error) {
	p, err := g.LoadProject(ctx)
	if err != nil {
		return nil, nil, err
	}
	services, err := engine.SelectServices(p, o.Services, o.NoDeps)
	if err != nil {
		return nil, nil, err
	}
	d, err := docker.New()
	if err != nil {
		return nil, nil, err
	}
	// Image step. The lead wires image.Builder.Ensure here (build/pull as
	// needed), which returns the same service -> image ID map.
	images, err := d.ImageIDs(ctx, p, services)
	if err != nil {
		return nil, nil, err
	}
	if _, err := g.injectAddresses(ctx, p); err != nil {
		return nil, nil, err
	}
	obs, err := d.Observe(ctx, p.Name)
	if err != nil {
		return nil, nil, err
	}
	plan, err := engine.Diff(p, images, obs, o)
	if err != nil {
		return nil, nil, err
	}
	return plan, d, nil
}

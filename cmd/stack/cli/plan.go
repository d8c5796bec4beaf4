package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/docker/docker/client"
	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/engine/docker"
	"github.com/stack-deploy/stack/envinject"
	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/registry"
)

type planOptions struct {
	Format           string
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
			"scale, remove, unchanged) and the reason. Nothing is changed.",
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Format != "text" && o.Format != "json" {
				return fmt.Errorf("--format %q: use text or json", o.Format)
			}
			dep, err := g.makePlan(cmd.Context(), engine.DiffOptions{Services: args}, image.EnsureOptions{DryRun: true}, o.Lock)
			if err != nil {
				return err
			}
			plan := dep.plan
			warnings, err := dep.driver.Check(cmd.Context(), plan)
			if err != nil {
				return err
			}
			for _, w := range warnings {
				fmt.Fprintf(g.Stderr, "stack: warning: %s\n", w)
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
	f.StringVar(&o.Lock, "lock", "", "plan the deploy of a release lock's exact images (a path, or current for the --env's current lock)")
	f.BoolVar(&o.DetailedExitcode, "detailed-exitcode", false, "exit 0 when nothing would change, 2 when something would, 1 on error")
	return cmd
}

// deployment is the outcome of the decide half of every verb that
// converges: the plan, and the driver that will carry it out.
type deployment struct {
	plan   *engine.Plan
	driver *docker.Driver
}

// makePlan loads the manifest (pinned to a release lock when lock is not
// empty), resolves the images, injects the service addresses, observes the
// engine once and diffs.
func (g *Globals) makePlan(ctx context.Context, o engine.DiffOptions, img image.EnsureOptions, lock string) (*deployment, error) {
	p, err := g.LoadProject(ctx)
	if err != nil {
		return nil, err
	}
	if lock != "" {
		if err := pin(p, lock); err != nil {
			return nil, err
		}
	}
	return g.planProject(ctx, p, o, img)
}

// pin makes p deploy exactly the images of a release lock (a path, or
// "current" for the selected environment's current lock), refusing a lock
// that does not match the manifest before anything changes.
func pin(p *manifest.Project, lock string) error {
	path, err := registry.LockFor(p, lock)
	if err != nil {
		return err
	}
	l, err := registry.ReadLock(path)
	if err != nil {
		return err
	}
	return registry.Pin(p, l, path)
}

// planProject is makePlan for a project already loaded (and perhaps pinned
// to a release lock).
func (g *Globals) planProject(ctx context.Context, p *manifest.Project, o engine.DiffOptions, img image.EnsureOptions) (*deployment, error) {
	services, err := engine.SelectServices(p, o.Services, o.NoDeps)
	if err != nil {
		return nil, err
	}
	d, images, err := g.prepare(ctx, p, services, img)
	if err != nil {
		return nil, err
	}
	return diff(ctx, d, p, images, o)
}

// prepare gets the images of services (ensuring them as img
// says) and injects the addresses into p: what a plan and a one-off
// container both need.
func (g *Globals) prepare(ctx context.Context, p *manifest.Project, services []string, img image.EnsureOptions) (*docker.Driver, map[string]string, error) {
	c, err := engineClient()
	if err != nil {
		return nil, nil, err
	}
	d, err := docker.New(docker.WithClient(c))
	if err != nil {
		return nil, nil, err
	}
	b, err := image.New(image.WithClient(c))
	if err != nil {
		return nil, nil, err
	}
	images, err := b.Ensure(ctx, p, services, img)
	if err != nil {
		return nil, nil, err
	}
	report, err := g.injectAddresses(ctx, c, p)
	if err != nil {
		return nil, nil, err
	}
	if pending := report.Pending(); len(pending) > 0 && !img.DryRun {
		// A plan may show {{db.port}} unresolved; a container must not get it.
		return nil, nil, fmt.Errorf("%s: %w: the port is not known because that service's image is not on the engine; "+
			"deploy it too (drop --no-deps), or declare its port with expose", strings.Join(pending, ", "), envinject.ErrTemplate)
	}
	return d, images, nil
}

// diff observes the engine once and plans.
func diff(ctx context.Context, d *docker.Driver, p *manifest.Project, images map[string]string, o engine.DiffOptions) (*deployment, error) {
	obs, err := d.Observe(ctx, p.Name)
	if err != nil {
		return nil, err
	}
	plan, err := engine.Diff(p, images, obs, o)
	if err != nil {
		return nil, err
	}
	return &deployment{plan: plan, driver: d}, nil
}

// engineClient connects to the engine the environment names (DOCKER_HOST or
// the docker context, ssh:// included; an --env's host has become
// DOCKER_HOST in LoadProject). A verb makes one and shares it.
func engineClient() (*client.Client, error) {
	c, err := docker.NewClient()
	if err != nil {
		return nil, fmt.Errorf("connecting to the Docker engine: %w", err)
	}
	return c, nil
}

// newBuilder returns an image builder on the engine engineClient names.
func newBuilder() (*image.Builder, error) {
	c, err := engineClient()
	if err != nil {
		return nil, err
	}
	return image.New(image.WithClient(c))
}

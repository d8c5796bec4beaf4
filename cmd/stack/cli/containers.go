package cli

import (
	"context"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/deploy"
	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
)

// The verbs that act on the containers a project has (kill, pause, rm, cp,
// top, port, images, wait) list them once through the driver's Lister and
// pick theirs from that list; the driver's capability then acts on exactly
// those.

// projectContainers loads the project, checks the services named, connects
// to its engine and lists every container of the project, stopped ones and
// one-offs included.
func (g *Globals) projectContainers(ctx context.Context, verb string, services []string) (*manifest.Project, *deploy.Target, []engine.Status, error) {
	p, t, err := g.open(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	rows, err := func() ([]engine.Status, error) {
		for _, s := range services {
			if err := knownService(p, s); err != nil {
				return nil, err
			}
		}
		return listContainers(ctx, t, p, verb)
	}()
	if err != nil {
		t.Close()
		return nil, nil, nil, err
	}
	return p, t, rows, nil
}

// listContainers lists every container of p through t's driver.
func listContainers(ctx context.Context, t *deploy.Target, p *manifest.Project, verb string) ([]engine.Status, error) {
	l, err := engine.Capability[engine.Lister](t.Driver, verb)
	if err != nil {
		return nil, err
	}
	return l.Ps(ctx, p.Name, true)
}

// selection says which of a project's containers a verb acts on.
type selection struct {
	// Services selects their containers; none: every service of the
	// manifest.
	Services []string
	// Orphans adds, when Services is empty, the containers of services no
	// longer in the manifest.
	Orphans bool
	// Index selects one replica number; 0: every one.
	Index int
	// OneOffs adds the containers of `stack run`.
	OneOffs bool
	// Keep, when set, keeps only the containers it accepts (by state).
	Keep func(engine.Status) bool
}

// pick returns the containers of rows that s selects, in rows' order.
func (s selection) pick(p *manifest.Project, rows []engine.Status) []engine.Container {
	var out []engine.Container
	for _, r := range rows {
		switch {
		case r.OneOff && !s.OneOffs:
		case s.Index > 0 && (r.Number != s.Index || r.OneOff):
		case len(s.Services) > 0 && !slices.Contains(s.Services, r.Service):
		case len(s.Services) == 0 && !s.Orphans && !inManifest(p, r.Service):
		case s.Keep != nil && !s.Keep(r):
		default:
			out = append(out, r.Container)
		}
	}
	return out
}

func inManifest(p *manifest.Project, service string) bool {
	_, ok := p.Project.Services[service]
	if !ok {
		_, ok = p.Project.DisabledServices[service]
	}
	return ok
}

// serviceContainer is the one container of service a verb acts on, as
// Compose picks it: replica index, or the lowest-numbered one; running
// (paused included) when onlyRunning.
func serviceContainer(p *manifest.Project, rows []engine.Status, service string, index int, onlyRunning bool) (engine.Container, error) {
	sel := selection{Services: []string{service}, Index: index}
	what := ""
	if onlyRunning {
		sel.Keep, what = running, "running "
	}
	cs := sel.pick(p, rows)
	switch {
	case len(cs) > 0:
		return cs[0], nil
	case index > 0:
		return engine.Container{}, fmt.Errorf("service %q has no %scontainer number %d: see `stack ps -a`", service, what, index)
	default:
		return engine.Container{}, fmt.Errorf("service %q has no %scontainer: start it with `stack up %s`", service, what, service)
	}
}

// running keeps the containers that run (paused ones included: they hold
// their processes).
func running(s engine.Status) bool { return s.Running() || s.State == "paused" }

// completeServices completes SERVICE arguments with the services of the
// project the flags point at, each named once.
func completeServices(g *Globals) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		p, err := g.LoadProject(cmd.Context())
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, s := range p.ServiceNames() {
			if !slices.Contains(args, s) {
				out = append(out, s)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// oneOnOneEngine is the start of the verbs that act on one container of
// a service through a capability only a single engine has (attach,
// commit, export): the project loaded, its containers listed, the one
// Compose would pick (running when onlyRunning), and the capability T, or
// an error saying why the orchestrator has none. Close the target.
func oneOnOneEngine[T any](ctx context.Context, g *Globals, verb, service string, index int, onlyRunning bool) (*deploy.Target, engine.Container, T, error) {
	var none T
	p, t, rows, err := g.projectContainers(ctx, verb, []string{service})
	if err != nil {
		return nil, engine.Container{}, none, err
	}
	c, err := serviceContainer(p, rows, service, index, onlyRunning)
	if err != nil {
		t.Close()
		return nil, engine.Container{}, none, err
	}
	capability, err := engine.Capability[T](t.Driver, verb)
	if err != nil {
		t.Close()
		return nil, engine.Container{}, none, fmt.Errorf("%w: %w", err, engine.ErrOneEngine)
	}
	return t, c, capability, nil
}

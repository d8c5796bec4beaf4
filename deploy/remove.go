package deploy

import (
	"context"
	"slices"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
)

// RemoveOptions steer Remove, with `stack rm`'s meaning.
type RemoveOptions struct {
	// Services whose stopped containers go; none: every service.
	Services []string
	// Stop stops the running ones first (dependants first).
	Stop bool
	// Volumes removes their anonymous volumes too.
	Volumes bool
	// Confirm, when set, is asked whether to remove the containers it
	// names; false removes nothing. It is asked without the lock: nobody's
	// deploy waits while a person answers.
	Confirm func(names []string) (bool, error)
	// Announce, when set and Confirm is not, is told what is removed
	// before it is.
	Announce func(names []string)
	Lock     LockOptions
}

// Remove removes the stopped containers of a project's services under the
// lock, but for the question: of what was confirmed, what is still stopped
// once the lock is taken again is removed. It returns the names of the
// containers it meant to remove: none when nothing was stopped.
func (t *Target) Remove(ctx context.Context, p *manifest.Project, o RemoveOptions) (names []string, err error) {
	remover, err := engine.Capability[engine.Remover](t.Driver, "rm")
	if err != nil {
		return nil, err
	}
	held, release, err := t.Hold(ctx, p.Name, o.Lock)
	if err != nil {
		return nil, err
	}
	defer func() { release(&err) }()
	if o.Stop {
		if err := t.change(held, p, engine.StopServices, LifecycleOptions{Services: o.Services}); err != nil {
			return nil, err
		}
	}
	cs, err := t.stopped(held, p, o.Services)
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	for _, c := range cs {
		names = append(names, c.Name)
	}
	if o.Confirm == nil && o.Announce != nil {
		o.Announce(names)
	}
	if o.Confirm != nil {
		if release(&err); err != nil {
			return nil, err
		}
		if ok, err := o.Confirm(names); err != nil || !ok {
			return nil, err
		}
		if held, release, err = t.Hold(ctx, p.Name, o.Lock); err != nil {
			release = func(*error) {}
			return nil, err
		}
		if cs, err = t.stopped(held, p, o.Services); err != nil {
			return nil, err
		}
		cs = slices.DeleteFunc(cs, func(c engine.Container) bool { return !slices.Contains(names, c.Name) })
	}
	return names, remover.Remove(held, p.Name, cs, o.Volumes)
}

// stopped returns the stopped service containers of services (of the
// manifest's services when none).
func (t *Target) stopped(ctx context.Context, p *manifest.Project, services []string) ([]engine.Container, error) {
	l, err := engine.Capability[engine.Lister](t.Driver, "rm")
	if err != nil {
		return nil, err
	}
	rows, err := l.Ps(ctx, p.Name, true)
	if err != nil {
		return nil, err
	}
	var out []engine.Container
	for _, r := range rows {
		_, inManifest := p.Project.Services[r.Service]
		switch {
		case r.OneOff, r.Running(), r.State == "paused":
		case len(services) > 0 && !slices.Contains(services, r.Service):
		case len(services) == 0 && !inManifest:
		default:
			out = append(out, r.Container)
		}
	}
	return out, nil
}

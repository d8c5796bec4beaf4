package deploy

import (
	"context"
	"slices"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
)

// DownOptions steer Down, with `stack down`'s meaning.
type DownOptions struct {
	Volumes       bool
	RemoveOrphans bool
	// RMI removes images: "local" (those built for the project, without an
	// image: name) or "all"; empty: none.
	RMI  string
	Lock LockOptions
}

// Down removes the project from the engine, under the lock: containers in
// reverse dependency order, then networks, named volumes with Volumes.
func (t *Target) Down(ctx context.Context, p *manifest.Project, o DownOptions) (err error) {
	ctx, release, err := t.Hold(ctx, p.Name, o.Lock)
	if err != nil {
		return err
	}
	defer release(&err)
	obs, err := t.Driver.Observe(ctx, p)
	if err != nil {
		return err
	}
	plan := engine.Down(p, obs, engine.DownOptions{Volumes: o.Volumes, RemoveOrphans: o.RemoveOrphans, Images: imagesToRemove(p, o.RMI)})
	return engine.Apply(ctx, t.Driver, plan, engine.ApplyOptions{})
}

// imagesToRemove lists the images `down --rmi mode` removes.
func imagesToRemove(p *manifest.Project, mode string) []string {
	var out []string
	for _, name := range p.ServiceNames() {
		s := p.Project.Services[name]
		if mode == "" || (mode == "local" && s.Image != "") {
			continue
		}
		if img := p.ImageName(name); !slices.Contains(out, img) {
			out = append(out, img)
		}
	}
	return out
}

// Planner plans a change of the containers a project has (stop, start,
// restart: engine.StopServices, ...).
type Planner func(*manifest.Project, engine.Images, *engine.Observed, []string) (*engine.Plan, error)

// LifecycleOptions steer Lifecycle.
type LifecycleOptions struct {
	Services []string
	// Wait: starting waits as up does, for healthy where the image declares
	// a healthcheck; stop does not.
	Wait  bool
	Apply engine.ApplyOptions
	Lock  LockOptions
}

// Lifecycle changes the containers p has as planner plans it, under the
// lock: a deploy waiting for a container to turn healthy, or rolling one
// back, must not meet a state it did not plan for.
func (t *Target) Lifecycle(ctx context.Context, p *manifest.Project, planner Planner, o LifecycleOptions) (err error) {
	ctx, release, err := t.Hold(ctx, p.Name, o.Lock)
	if err != nil {
		return err
	}
	defer release(&err)
	return t.change(ctx, p, planner, o)
}

// change is Lifecycle's work, under the lock the caller holds.
func (t *Target) change(ctx context.Context, p *manifest.Project, planner Planner, o LifecycleOptions) error {
	obs, err := t.Driver.Observe(ctx, p)
	if err != nil {
		return err
	}
	var images engine.Images
	if o.Wait {
		if images, err = t.ImageFacts(ctx, p); err != nil {
			return err
		}
	}
	plan, err := planner(p, images, obs, o.Services)
	if err != nil {
		return err
	}
	return engine.Apply(ctx, t.Driver, plan, o.Apply)
}

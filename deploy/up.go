package deploy

import (
	"context"
	"time"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
	"github.com/stack-deploy/stack/registry"
)

// UpOptions steer Up, with the meaning of `stack up`'s and `stack
// create`'s flags.
type UpOptions struct {
	Options
	Apply engine.ApplyOptions
	Lock  LockOptions
	// Create creates and replaces what up would without starting anything
	// (`stack create`); a driver that cannot is refused before anything
	// changes.
	Create bool
	// Release deploys exactly the images of a release lock (a path, or
	// registry.CurrentLock): base is pinned to it, the deploy is all or
	// nothing, and its outcome is recorded in the environment's history.
	Release string
	// RollbackFrom is the ID of the release a rollback replaces, for the
	// record.
	RollbackFrom string
	// Planned, when set, is shown the plan before it is carried out.
	Planned func(*engine.Plan)
	// DryRun plans, building and pulling nothing, and changes nothing.
	DryRun bool
	// Phase steers the release phase.
	Phase PhaseOptions
}

// Up converges the engine to base: pin, plan (under the lock when it
// changes something, planned again when the engine moved), apply, record.
// base itself is not changed.
func (t *Target) Up(ctx context.Context, base *manifest.Project, o UpOptions) (err error) {
	var creator engine.Creator
	if o.Create {
		if creator, err = engine.Capability[engine.Creator](t.Driver, "create"); err != nil {
			return err
		}
	}
	if o.Release != "" {
		if base, err = Pin(base, o.Release); err != nil {
			return err
		}
		o.Diff.Atomic = true // a release deploys whole or not at all
	}
	if o.DryRun {
		o.Images.DryRun = true
		plan, err := t.Plan(ctx, base.Clone(), o.Options)
		if err == nil && o.Planned != nil {
			ShowPhase(plan, base, o.Phase)
			o.Planned(plan)
		}
		return err
	}
	l, err := t.PlanLocked(ctx, base, o.Options, o.Lock)
	if err != nil {
		return err
	}
	defer l.Release(&err)
	phase := runsPhase(l.Project.Release(), l.Plan, o.Phase) && creator == nil
	if phase && !l.held {
		// Forced with nothing to change: the phase still runs under the lock.
		if err := t.hold(ctx, base.Name, l, o.Lock); err != nil {
			return err
		}
	}
	if o.Planned != nil {
		o.Planned(l.Plan)
	}
	if phase {
		if err := t.before(ctx, base, l, o); err != nil {
			return err
		}
	}
	if creator != nil {
		if err := creator.CreateOnly(l.Plan); err != nil {
			return err
		}
	}
	started := time.Now()
	var d engine.Driver = t.Driver
	inTxn := phase && afterInTxn(l.Plan, l.Project.Release().After)
	if inTxn {
		d = phased{t.Driver, func(ctx context.Context) error { return t.after(ctx, l, o) }}
	}
	err = engine.Apply(l.Ctx, d, l.Plan, o.Apply)
	if err == nil && phase && !inTxn {
		err = t.after(l.Ctx, l, o)
	}
	if o.Release != "" {
		record(ctx, base, o.Release, o.RollbackFrom, started, err)
	}
	return t.settle(ctx, base, l, o, err)
}

// Pin returns a copy of p that deploys exactly the images of a release
// lock (a path, or registry.CurrentLock for the selected environment's
// current lock), refusing a lock that does not match the manifest before
// anything changes.
func Pin(p *manifest.Project, release string) (*manifest.Project, error) {
	path, err := registry.LockFor(p, release)
	if err != nil {
		return nil, err
	}
	l, err := registry.ReadLock(path)
	if err != nil {
		return nil, err
	}
	p = p.Clone()
	return p, registry.Pin(p, l, path)
}

// record keeps a release's deploy, failed or not, in the environment's
// history (the checkout's and the registry's): `stack releases` says which
// attempt failed, `stack rollback` which release to go back to. Failing to
// record is a warning: the deploy itself is done.
func record(ctx context.Context, p *manifest.Project, release, rollbackFrom string, started time.Time, deployErr error) {
	if p.Env == nil {
		return
	}
	err := func() error {
		path, err := registry.LockFor(p, release)
		if err != nil {
			return err
		}
		l, err := registry.ReadLock(path)
		if err != nil {
			return err
		}
		pr, err := registry.NewPromoter()
		if err != nil {
			return err
		}
		h, err := registry.NewHistory(p, pr)
		if err != nil {
			return err
		}
		return h.RecordDeploy(ctx, path, l, started, deployErr, rollbackFrom)
	}()
	if err != nil {
		progress.Report(ctx, "release:"+p.Env.Name, "record", progress.Warning, err.Error(), nil)
	}
}

// RunOptions steer Run, with `stack run`'s meaning.
type RunOptions struct {
	engine.RunOptions
	// NoDeps leaves the service's dependencies as they are.
	NoDeps bool
	Lock   LockOptions
	// Images says how the service's and its dependencies' images are
	// built and pulled (`run --build`, `run --pull`).
	Images image.EnsureOptions
	// RemoveOrphans removes the containers of services no longer in the
	// manifest, as up --remove-orphans.
	RemoveOrphans bool
}

// Run runs a one-off container of a service: its dependencies, and the
// networks and volumes it uses, converge as `stack up SERVICE` would, under
// the lock; the service's own containers are left as they are. The one-off
// itself runs without the lock (a shell or a long job must not hold up
// every deploy), with the addresses injected. It returns the one-off's
// exit code.
func (t *Target) Run(ctx context.Context, base *manifest.Project, o RunOptions) (code int, err error) {
	runner, err := engine.Capability[engine.Runner](t.Driver, "run")
	if err != nil {
		return 0, err
	}
	if c, ok := runner.(engine.RunChecker); ok {
		if err := c.CheckRun(o.RunOptions); err != nil {
			return 0, err
		}
	}
	diff := engine.DiffOptions{Services: []string{o.Service}, NoDeps: o.NoDeps, Leave: []string{o.Service}, RemoveOrphans: o.RemoveOrphans}
	l, err := t.PlanLocked(ctx, base, Options{Diff: diff, Images: o.Images}, o.Lock)
	if err != nil {
		return 0, err
	}
	err = engine.Apply(l.Ctx, t.Driver, l.Plan, engine.ApplyOptions{})
	if l.Release(&err); err != nil {
		return 0, err
	}
	return runner.Run(ctx, l.Project, o.RunOptions)
}

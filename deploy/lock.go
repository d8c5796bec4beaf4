package deploy

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/lock"
	"github.com/stack-deploy/stack/manifest"
)

// LockOptions say who takes a project's deploy lock, and how long it waits
// for another run to let it go.
type LockOptions struct {
	// Command is what the runs waiting for the lock are told the holder
	// does: "stack up web --env prod".
	Command string
	// Wait bounds the wait for another holder (--lock-timeout); 0: none.
	Wait time.Duration
}

// Hold takes project's deploy lock where t deploys and returns the context
// to work under, cancelled if the lock is lost, and release, which lets the
// lock go and, when it was lost, says so in *err. Call release on every
// path (defer); a second call does nothing.
func (t *Target) Hold(ctx context.Context, project string, o LockOptions) (context.Context, func(err *error), error) {
	locks, err := t.Locks("lock")
	if err != nil {
		return nil, nil, err
	}
	l, err := locks.Acquire(ctx, project, lock.Options{Holder: lock.Me(o.Command), Wait: o.Wait})
	if errors.Is(err, lock.ErrHeld) {
		return nil, nil, fmt.Errorf("%w: try again later or with a longer --lock-timeout; `stack lock status` shows the holder, `stack lock release` removes the lock of a run that is gone", err)
	}
	if err != nil {
		return nil, nil, err
	}
	released := false
	return l.Context(), func(errp *error) {
		if released {
			return
		}
		released = true
		rerr := l.Release(ctx)
		switch lost := l.Lost(); {
		case lost != nil && *errp != nil:
			*errp = fmt.Errorf("%w; the run stopped: %w", lost, *errp)
		case lost != nil:
			*errp = lost
		case *errp == nil:
			*errp = rerr
		}
	}, nil
}

// Locks returns where t's driver keeps the deploy locks, or an error naming
// verb when it keeps none.
func (t *Target) Locks(verb string) (lock.Locks, error) {
	l, err := engine.Capability[engine.Locker](t.Driver, verb)
	if err != nil {
		return nil, err
	}
	return l.Locks(), nil
}

// Locked is a plan made, under the project's deploy lock when it changes
// something: carry it out under Ctx, then Release.
type Locked struct {
	Ctx  context.Context
	Plan *engine.Plan
	// Project is the copy of the loaded project the plan was made from,
	// its addresses injected and images pinned.
	Project *manifest.Project
	release func(*error)
	held    bool // the lock was taken
}

// Release lets the lock go, if it was taken (see Hold).
func (l *Locked) Release(err *error) { l.release(err) }

// hold takes the lock for l, planned without it.
func (t *Target) hold(ctx context.Context, project string, l *Locked, o LockOptions) error {
	held, release, err := t.Hold(ctx, project, o)
	if err != nil {
		return err
	}
	l.Ctx, l.release, l.held = held, release, true
	return nil
}

// PlanLocked plans an up of base, taking the deploy lock only when it must.
// A plan that changes nothing, made while no run held the lock before and
// after it, stands without it: every change to a project is made under its
// lock, so no run changed it meanwhile; that spares a no-op up the lock's
// cost. A plan that changes something stands if the engine, observed again
// under the lock, is as the plan saw it; else it is made again, under the
// lock, from a fresh copy of base. base itself is never changed.
func (t *Target) PlanLocked(ctx context.Context, base *manifest.Project, o Options, lo LockOptions) (*Locked, error) {
	locks, err := t.Locks("up")
	if err != nil {
		return nil, err
	}
	var plan *engine.Plan
	p := base.Clone()
	free, err := locks.Free(ctx, base.Name)
	if err != nil {
		return nil, err
	}
	if free {
		if plan, err = t.Plan(ctx, p, o); err != nil {
			return nil, err
		}
		if plan.Changes() == 0 {
			if free, err = locks.Free(ctx, base.Name); err != nil || free {
				return &Locked{Ctx: ctx, Plan: plan, Project: p, release: func(*error) {}}, err
			}
		}
	}
	ctx, release, err := t.Hold(ctx, base.Name, lo)
	if err != nil {
		return nil, err
	}
	l := &Locked{Ctx: ctx, Plan: plan, Project: p, release: release, held: true}
	if plan != nil {
		obs, err := t.Driver.Observe(ctx, p)
		if err != nil {
			release(&err)
			return nil, err
		}
		if reflect.DeepEqual(obs, plan.Observed) {
			return l, nil
		}
	}
	l.Project = base.Clone()
	if l.Plan, err = t.Plan(ctx, l.Project, o); err != nil {
		release(&err)
		return nil, err
	}
	return l, nil
}

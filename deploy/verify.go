package deploy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
	"github.com/stack-deploy/stack/registry"
	"github.com/stack-deploy/stack/release"
)

// settle ends an up whose plan was carried out (err is how it went): a
// deploy that changed an environment with checks (x-stack.environments.E.
// verify) is verified, the outcome recorded with the release it runs as
// `stack verify` records it; a failed check ends the up with an error
// naming it. Under --atomic or --lock, a failed check, or an after step
// that failed outside the deploy's transaction (a Swarm's update has no
// commit point to undo before), rolls the environment back (rollBack).
// An environment without a history (an up without --lock that ran no
// release before) is not rolled back: the error says so.
func (t *Target) settle(ctx context.Context, base *manifest.Project, l *Locked, o UpOptions, err error) error {
	if err != nil {
		if l.Plan.Atomic && errors.Is(err, errAfter) && !hasOp(l.Plan, afterOpID) {
			return t.rollBack(ctx, base, l, o, err, registry.PreviousRelease)
		}
		return err
	}
	checks := l.Project.Checks()
	if o.Create || o.Phase.NoVerify || len(checks) == 0 || (l.Plan.Changes() == 0 && !o.Phase.Force) {
		return nil
	}
	runner, _ := engine.Capability[engine.Runner](t.Driver, "verify")
	res, err := release.Verify(l.Ctx, checks, runner, l.Project)
	if err != nil {
		return fmt.Errorf("verifying %s after the deploy: %w", base.Env.Name, err)
	}
	resource := "release:" + base.Env.Name
	h, _, running, err := t.History(l.Ctx, base)
	if err == nil && running != nil {
		err = h.RecordVerification(ctx, Verification(running, res))
	} else if err == nil {
		err = errors.New("the engine runs no release of " + base.Env.Name + " (deploy one with --lock)")
	}
	if err != nil {
		progress.Report(ctx, resource, "verify", progress.Warning, "the verification is not recorded: "+err.Error(), nil)
	}
	if verr := res.Err(); verr != nil {
		verr = fmt.Errorf("verifying %s after the deploy: %w", base.Env.Name, verr)
		// A rollback that fails its checks is reported, not rolled back
		// further: the older releases are for a person to choose.
		if l.Plan.Atomic && o.RollbackFrom == "" {
			return t.rollBack(ctx, base, l, o, verr, registry.RollbackTarget)
		}
		return verr
	}
	progress.Report(ctx, resource, "verify", progress.Done, "verified", nil)
	return nil
}

// afterOpID is the operation afterInTxn adds to an atomic plan.
const afterOpID = "run release:after"

// hasOp reports whether plan's graph has the operation id.
func hasOp(plan *engine.Plan, id string) bool {
	if plan.Graph == nil {
		return false
	}
	for _, op := range plan.Graph.Ops {
		if op.ID == id {
			return true
		}
	}
	return false
}

// rollBack returns base's environment, after a deploy that failed once its
// services were ready (why), to the release choose picks from its history:
// after failed checks the one `stack rollback` would choose (the newest
// older than the one running that was deployed and verified); after a
// failed after step the one that ran before (as the transaction of one
// engine undoes the deploy). It runs under the lock the deploy holds, all
// or nothing, the release phase not run again, and is recorded as a
// rollback. The error is why, saying where the environment went back to or
// why it could not.
func (t *Target) rollBack(ctx context.Context, base *manifest.Project, l *Locked, o UpOptions, why error, choose func([]*registry.Release) (*registry.Release, error)) error {
	if base.Env == nil {
		return fmt.Errorf("%w; not rolled back: without --env no history says what ran before", why)
	}
	h, releases, running, err := t.History(l.Ctx, base)
	if err != nil {
		return fmt.Errorf("%w; not rolled back: %w", why, err)
	}
	target, err := choose(releases)
	if err != nil {
		return fmt.Errorf("%w; not rolled back: %w", why, err)
	}
	path, err := h.LockFile(target)
	if err != nil {
		return fmt.Errorf("%w; not rolled back: %w", why, err)
	}
	p, err := Pin(base, path)
	if err != nil {
		return fmt.Errorf("%w; not rolled back: %w", why, err)
	}
	resource := "release:" + base.Env.Name
	progress.Report(ctx, resource, "rollback", progress.Working, "to "+target.Lock.Tag, nil)
	started := time.Now()
	plan, err := t.Plan(l.Ctx, p, Options{Diff: engine.DiffOptions{Atomic: true}})
	if err == nil {
		err = engine.Apply(l.Ctx, t.Driver, plan, o.Apply)
	}
	fromID := ""
	if running != nil {
		fromID = running.ID
	}
	record(ctx, base, path, fromID, started, err)
	if err != nil {
		progress.Report(ctx, resource, "rollback", progress.Failed, "", err)
		return fmt.Errorf("%w; rolling back to %s: %w", why, target.Lock.Tag, err)
	}
	progress.Report(ctx, resource, "rollback", progress.Done, "to "+target.Lock.Tag, nil)
	return fmt.Errorf("%w; rolled back to %s (%s)", why, target.Lock.Tag, registry.Short(target.ID))
}

// History reads p's environment's release history (the checkout's and the
// registry's) and marks the release its engine runs, nil when it runs none
// or cannot say.
func (t *Target) History(ctx context.Context, p *manifest.Project) (*registry.History, []*registry.Release, *registry.Release, error) {
	pr, err := registry.NewPromoter()
	if err != nil {
		return nil, nil, nil, err
	}
	h, err := registry.NewHistory(p, pr)
	if err != nil {
		return nil, nil, nil, err
	}
	releases, err := h.Releases(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	running, err := t.Running(ctx, p.Name)
	if err != nil {
		progress.Report(ctx, "release:"+p.Env.Name, "running", progress.Warning, "not knowing which release runs: "+err.Error(), nil)
	}
	return h, releases, registry.MarkRunning(releases, running), nil
}

// Verification is the record of res, a run of the checks against r.
func Verification(r *registry.Release, res release.Result) registry.Verification {
	v := registry.Verification{Release: r.ID, Tag: r.Lock.Tag, Time: time.Now(), Passed: res.Passed()}
	for _, c := range res.Checks {
		cr := registry.CheckResult{Name: c.Name, Passed: c.Passed}
		if !c.Passed {
			cr.Output = c.Output
		}
		v.Checks = append(v.Checks, cr)
	}
	return v
}

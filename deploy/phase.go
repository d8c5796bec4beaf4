package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/release"
)

// PhaseOptions steer the release phase of an up (x-stack.release, and an
// environment's release).
type PhaseOptions struct {
	// Force runs the phase even when the plan changes nothing
	// (--force-release-phase).
	Force bool
	// Out takes the steps' output, each line under its step's name.
	Out io.Writer
	// NoVerify leaves out the environment's checks after the deploy
	// (--no-verify).
	NoVerify bool
}

// errAfter wraps the failure of an after step.
var errAfter = errors.New("release phase, once the services were ready")

// ShowPhase adds to plan, made from p, the lines of the release phase's
// steps when an up of it would run them: `stack plan` shows what will run
// and when.
func ShowPhase(plan *engine.Plan, p *manifest.Project, o PhaseOptions) {
	if runsPhase(p.Release(), plan, o) {
		plan.Actions = append(plan.Actions, phaseActions(p.Release())...)
	}
}

func phaseActions(r manifest.ReleasePhase) []*engine.Action {
	var out []*engine.Action
	for _, s := range r.Before {
		out = append(out, &engine.Action{Resource: "release:" + s.Name(), Kind: engine.Kind("run"), Reason: "before the services change"})
	}
	for _, s := range r.After {
		out = append(out, &engine.Action{Resource: "release:" + s.Name(), Kind: engine.Kind("run"), Reason: "once every service is ready"})
	}
	return out
}

// runsPhase reports whether an up of plan runs the release phase r: it
// has steps, and the plan changes something or the phase is forced.
func runsPhase(r manifest.ReleasePhase, plan *engine.Plan, o PhaseOptions) bool {
	return len(r.Before)+len(r.After) > 0 && (o.Force || plan.Changes() > 0)
}

// before runs the release phase's before steps under l's lock, each a
// one-off of its service with the new images and the addresses injected:
// the networks, volumes and dependencies of the steps' services are
// converged first (a first deploy's migration finds its database), their
// own containers left as they are. When that changed the engine, l's plan
// is made again from a fresh copy of base. A step that fails ends the up
// with nothing of the services changed.
func (t *Target) before(ctx context.Context, base *manifest.Project, l *Locked, o UpOptions) error {
	steps := l.Project.Release().Before
	if len(steps) == 0 {
		return nil
	}
	runner, err := engine.Capability[engine.Runner](t.Driver, "up (release phase)")
	if err != nil {
		return err
	}
	var services []string
	for _, s := range steps {
		if !slices.Contains(services, s.Service) {
			services = append(services, s.Service)
		}
	}
	deps := o.Options
	deps.Diff.Services, deps.Diff.NoDeps, deps.Diff.Leave = services, false, services
	p := base.Clone()
	plan, err := t.Plan(l.Ctx, p, deps)
	if err != nil {
		return err
	}
	if err := engine.Apply(l.Ctx, t.Driver, plan, o.Apply); err != nil {
		return fmt.Errorf("converging what the release phase needs: %w", err)
	}
	if err := release.RunPhase(l.Ctx, runner, p, steps, o.Phase.Out); err != nil {
		return fmt.Errorf("release phase: %w; no service was changed", err)
	}
	if plan.Changes() == 0 {
		return nil
	}
	l.Project = base.Clone()
	l.Plan, err = t.Plan(l.Ctx, l.Project, o.Options)
	return err
}

// afterInTxn makes the after steps an operation of an atomic plan's
// transaction, between every service ready and the commit (where a
// replacement ends for good): when a step fails, the walker undoes the
// deploy as for any of its failures, and the old containers serve again.
// It reports false when the driver's plan has no commit point (a Swarm's
// update is rolled back by Swarm), and the steps run after the apply.
func afterInTxn(plan *engine.Plan, steps []manifest.Step) bool {
	if !plan.Atomic || len(steps) == 0 {
		return false
	}
	var commit *engine.Op
	txn := map[string]string{}
	for _, op := range plan.Graph.Ops {
		txn[op.ID] = op.Txn
		if op.Kind == engine.OpCommit {
			commit = op
		}
	}
	if commit == nil || len(commit.Needs) == 0 {
		return false
	}
	a := &engine.Action{Resource: "release:after", Kind: engine.Kind("run"), Reason: "once every service is ready, before the deploy commits"}
	plan.Actions = append(plan.Actions, a)
	names := make([]string, len(steps))
	for i, s := range steps {
		names[i] = s.Name()
	}
	run := &engine.Op{ID: afterOpID, Kind: engine.OpRun, Target: a.Resource, Action: a.Resource,
		Txn: txn[commit.Needs[0]], Needs: commit.Needs, Detail: strings.Join(names, "; ")}
	plan.Graph.Ops = append(plan.Graph.Ops, run)
	commit.Needs = []string{run.ID}
	return true
}

// phased is a driver whose runs also make the release phase's operations.
type phased struct {
	engine.Driver
	run func(ctx context.Context) error
}

func (d phased) Begin(ctx context.Context, plan *engine.Plan, o engine.ApplyOptions) (engine.Executor, error) {
	x, err := d.Driver.Begin(ctx, plan, o)
	return phasedRun{x, d.run}, err
}

type phasedRun struct {
	engine.Executor
	run func(ctx context.Context) error
}

func (x phasedRun) Execute(ctx context.Context, op *engine.Op, notes engine.Notes) error {
	if op.Kind == engine.OpRun {
		return x.run(ctx)
	}
	return x.Executor.Execute(ctx, op, notes)
}

// after runs the release phase's after steps once every service is ready.
func (t *Target) after(ctx context.Context, l *Locked, o UpOptions) error {
	steps := l.Project.Release().After
	if len(steps) == 0 {
		return nil
	}
	runner, err := engine.Capability[engine.Runner](t.Driver, "up (release phase)")
	if err != nil {
		return err
	}
	if err := release.RunPhase(ctx, runner, l.Project, steps, o.Phase.Out); err != nil {
		return fmt.Errorf("%w: %w", errAfter, err)
	}
	return nil
}

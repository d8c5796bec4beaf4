package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-multierror"

	"github.com/stack-deploy/stack/progress"
)

// Driver carries out plans on one kind of engine. The planner never sees it;
// the walker only calls it.
type Driver interface {
	// Observe reads what the engine holds for project, once.
	Observe(ctx context.Context, project string) (*Observed, error)
	// Begin opens a session for applying plan (for instance, subscribes to
	// the engine's events before anything is started).
	Begin(ctx context.Context, plan *Plan, o ApplyOptions) (Session, error)
}

// Session applies the actions of one plan.
type Session interface {
	// Run carries out one action and returns once its resource is ready as
	// the action's Ready says. It calls started once the resource is started
	// (before waiting for it to be ready) or, for a removal, stopped (before
	// removing it), letting the actions that list it in AfterStart go on; it
	// may not call it at all. It reports its own progress events.
	Run(ctx context.Context, a *Action, started func()) error
	// Close releases the session.
	Close() error
}

// ApplyOptions steer Apply.
type ApplyOptions struct {
	// Parallel bounds the actions under way at once; 0 or less: DefaultParallel.
	Parallel int
	// Timeout bounds each wait for a service to become ready (started,
	// healthy, completed); 0: no bound beyond ctx.
	Timeout time.Duration
}

// DefaultParallel is the default bound on concurrent actions.
const DefaultParallel = 16

// Apply carries out plan through d: every action runs once everything it
// waits for is done, independent ones in parallel. A failed action's
// dependants are skipped and reported skipped once; independent branches
// still finish. The error collects every root cause (a *multierror.Error);
// dependants' skips are not repeated in it. A plan without changes makes no
// driver calls at all.
func Apply(ctx context.Context, d Driver, plan *Plan, o ApplyOptions) error {
	if plan.Changes() == 0 {
		for _, a := range plan.Actions {
			ReportUnchanged(ctx, a)
		}
		return nil
	}
	s, err := d.Begin(ctx, plan, o)
	if err != nil {
		return err
	}
	err = Walk(ctx, plan, o.Parallel, func(ctx context.Context, a *Action, started func()) error {
		if a.Kind == Unchanged && a.Type() != "service" {
			ReportUnchanged(ctx, a)
			return nil
		}
		return s.Run(ctx, a, started)
	})
	if cerr := s.Close(); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// ReportUnchanged reports an action that changes nothing: done, or a
// warning for an orphan or a stale network or volume.
func ReportUnchanged(ctx context.Context, a *Action) {
	if a.Orphan || a.Stale {
		progress.Report(ctx, a.Resource, string(a.Kind), progress.Warning, a.Reason, nil)
		return
	}
	progress.Report(ctx, a.Resource, string(a.Kind), progress.Done, a.Reason, nil)
}

// Walk calls run for every action of plan in dependency order, at most
// parallel at once (0: DefaultParallel), and makes no decisions of its own
// beyond skipping the dependants of a failure. An action waits for each of
// its WaitsFor to finish, or only to be started (run calls started) for those
// also in AfterStart. WaitsFor entries that name no action of the plan are
// ignored. Cancelling ctx lets calls under way finish (they get the cancelled
// ctx) and skips the rest.
func Walk(ctx context.Context, plan *Plan, parallel int, run func(ctx context.Context, a *Action, started func()) error) error {
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	if err := checkCycles(plan); err != nil {
		return err
	}
	type node struct {
		started     chan struct{} // closed once started, or done
		startedOnce sync.Once
		done        chan struct{}
		err         error // nil, ErrSkipped, or the failure; final once done is closed
		failedEarly bool  // failed or skipped before it was started; final once started is closed
	}
	nodes := make(map[string]*node, len(plan.Actions))
	for _, a := range plan.Actions {
		nodes[a.Resource] = &node{started: make(chan struct{}), done: make(chan struct{})}
	}
	sem := make(chan struct{}, parallel)
	var (
		mu     sync.Mutex
		result *multierror.Error
		wg     sync.WaitGroup
	)
	for _, a := range plan.Actions {
		n := nodes[a.Resource]
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(n.done)
			markStarted := func(failed bool) {
				n.startedOnce.Do(func() { n.failedEarly = failed; close(n.started) })
			}
			defer func() { markStarted(n.err != nil) }()
			var failed []string
			for _, dep := range a.WaitsFor {
				dn, ok := nodes[dep]
				if !ok {
					continue
				}
				var depFailed bool
				if slices.Contains(a.AfterStart, dep) {
					<-dn.started
					depFailed = dn.failedEarly
				} else {
					<-dn.done
					depFailed = dn.err != nil
				}
				if depFailed && !slices.Contains(a.Optional, dep) {
					failed = append(failed, dep)
				}
			}
			if len(failed) > 0 {
				n.err = ErrSkipped
				progress.Report(ctx, a.Resource, string(a.Kind), progress.Skipped, fmt.Sprintf("%s did not succeed", failed[0]), nil)
				return
			}
			acquired := false
			select {
			case sem <- struct{}{}:
				acquired = true
			case <-ctx.Done():
			}
			if ctx.Err() != nil {
				if acquired {
					<-sem
				}
				n.err = ErrSkipped
				progress.Report(ctx, a.Resource, string(a.Kind), progress.Skipped, "interrupted", nil)
				mu.Lock()
				if !slices.ContainsFunc(result.WrappedErrors(), func(e error) bool { return errors.Is(e, ctx.Err()) }) {
					result = multierror.Append(result, ctx.Err())
				}
				mu.Unlock()
				return
			}
			err := run(ctx, a, func() { markStarted(false) })
			<-sem
			if err != nil {
				n.err = err
				mu.Lock()
				result = multierror.Append(result, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if result == nil {
		return nil
	}
	result.ErrorFormat = listErrors
	return result
}

// listErrors renders several root causes one a line, one alone as itself.
func listErrors(errs []error) string {
	if len(errs) == 1 {
		return errs[0].Error()
	}
	s := fmt.Sprintf("%d errors:", len(errs))
	for _, err := range errs {
		s += "\n  * " + err.Error()
	}
	return s
}

func checkCycles(plan *Plan) error {
	state := map[string]int{} // 0 new, 1 visiting, 2 done
	deps := map[string][]string{}
	for _, a := range plan.Actions {
		deps[a.Resource] = a.WaitsFor
	}
	var visit func(string) error
	visit = func(r string) error {
		switch state[r] {
		case 1:
			return fmt.Errorf("%s: %w", r, ErrCycle)
		case 2:
			return nil
		}
		state[r] = 1
		for _, d := range deps[r] {
			if _, ok := deps[d]; ok {
				if err := visit(d); err != nil {
					return err
				}
			}
		}
		state[r] = 2
		return nil
	}
	for _, a := range plan.Actions {
		if err := visit(a.Resource); err != nil {
			return err
		}
	}
	return nil
}

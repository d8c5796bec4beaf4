package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stack-deploy/stack/internal/dag"
	"github.com/stack-deploy/stack/progress"
)

// undoTimeout bounds the reversal of a failed transaction, which runs even
// after Ctrl-C.
const undoTimeout = 2 * time.Minute

// Walk carries out the operations of g through x, in dependency order, at
// most parallel at once (waits do not count; 0: DefaultParallel). It decides
// nothing of its own: it skips what needs a failure, and when an operation
// of a transaction fails it cancels the transaction's operations under way,
// skips those not begun and runs the Undo of the ones done, latest first.
// It reports progress per action of plan (the lines users read) and per
// operation (events with Op set). The error collects every root cause.
func Walk(ctx context.Context, plan *Plan, g *Graph, x Executor, parallel int) error {
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	w := &walk{plan: plan, g: g, x: x, actions: map[string]*actionState{}, txns: map[string]*txn{}}
	for _, op := range g.Ops {
		as := w.actions[op.Action]
		if as == nil {
			as = &actionState{action: plan.Action(op.Action)}
			w.actions[op.Action] = as
		}
		as.ops++
		if op.Txn != "" && w.txns[op.Txn] == nil {
			tctx, cancel := context.WithCancel(ctx)
			w.txns[op.Txn] = &txn{ctx: tctx, cancel: cancel}
		}
	}
	for _, t := range w.txns {
		defer t.cancel()
	}
	for _, a := range plan.Actions {
		if w.actions[a.Resource] == nil {
			ReportUnchanged(ctx, a)
		}
	}
	return dag.Walk(ctx, g.nodes(), parallel, dag.Hooks{Skipped: func(n dag.Node, need string) {
		w.skipped(ctx, w.op(n.ID), need)
	}}, func(ctx context.Context, i int) error {
		return w.visit(ctx, g.Ops[i])
	})
}

type walk struct {
	plan *Plan
	g    *Graph
	x    Executor

	mu      sync.Mutex
	actions map[string]*actionState
	txns    map[string]*txn
}

// actionState follows one action's operations, to report it once begun,
// done, failed or skipped.
type actionState struct {
	action       *Action
	ops, done    int
	begun, ended bool
}

// txn follows one transaction: its context (cancelled when it fails), the
// operations under way, and those to undo.
type txn struct {
	ctx      context.Context
	cancel   context.CancelFunc
	failed   bool
	cause    string // the action of the operation that failed first
	inflight int
	done     []*Op         // succeeded, or cancelled under way: undone on failure
	settled  chan struct{} // closed once failed and nothing is under way
	undone   bool
}

func (w *walk) op(id string) *Op {
	for _, op := range w.g.Ops {
		if op.ID == id {
			return op
		}
	}
	return nil
}

// resource names the action of the operation id, for "db did not succeed".
func (w *walk) resource(id string) string {
	if op := w.op(id); op != nil {
		return op.Action
	}
	return id
}

func (w *walk) visit(ctx context.Context, op *Op) error {
	w.mu.Lock()
	t := w.txns[op.Txn]
	as := w.actions[op.Action]
	if t != nil && t.failed {
		// Another operation of its transaction failed: this one is not
		// begun, and its action ends here unless it has already (or it is
		// the failing one, which reports its failure).
		report := !as.ended && op.Action != t.cause
		as.ended = as.ended || report
		w.mu.Unlock()
		if report {
			progress.Report(ctx, op.Action, string(w.kind(as)), progress.Skipped, "rolled back: another step of the deploy failed", nil)
		}
		return dag.ErrSkipped
	}
	if t != nil {
		t.inflight++
		ctx = t.ctx
	}
	first := !as.begun
	as.begun = true
	w.mu.Unlock()

	kind := string(w.kind(as))
	if first {
		progress.Report(ctx, op.Action, kind, progress.Working, w.reason(as), nil)
	}
	if op.Kind == OpWait {
		progress.Report(ctx, op.Action, kind, progress.Working, "waiting "+op.Detail, nil)
	}
	reportOp(ctx, op, progress.Working, nil)
	err := w.x.Execute(ctx, op, opNotes{ctx, op.Action, kind})

	finished, err := w.settle(t, as, op, err)

	switch {
	case err == nil:
		reportOp(ctx, op, progress.Done, nil)
		if finished {
			progress.Report(ctx, op.Action, kind, progress.Done, w.reason(as), nil)
		}
		return nil
	case errors.Is(err, dag.ErrSkipped):
		return err
	}
	reportOp(ctx, op, progress.Failed, err)
	if t != nil {
		err = w.failTxn(ctx, t, op, err)
	}
	w.mu.Lock()
	report := !as.ended
	as.ended = true
	w.mu.Unlock()
	if report {
		progress.Report(ctx, op.Action, kind, progress.Failed, "", err)
	}
	return err
}

// settle records op's outcome in its transaction and action: it returns
// whether op finished its action, and err (ErrSkipped when it is a
// consequence of its transaction's failure, not a cause).
func (w *walk) settle(t *txn, as *actionState, op *Op, err error) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if t != nil {
		t.inflight--
		if err == nil || t.ctx.Err() != nil {
			// Done, or cancelled under way (the call may have been made):
			// undone if the transaction fails, so every undo must be safe
			// whether or not its call took effect.
			t.done = append(t.done, op)
		}
		if err != nil && t.failed {
			err = dag.ErrSkipped // a consequence of the failure, not a cause
		}
		if t.failed && t.inflight == 0 {
			close(t.settled)
		}
	}
	finished := false
	if err == nil {
		as.done++
		finished = as.done == as.ops && !as.ended
		if finished {
			as.ended = true
		}
	}
	return finished, err
}

// failTxn marks t failed, cancels its operations under way, waits for them
// and undoes what was done; err is returned with what the undo did.
func (w *walk) failTxn(ctx context.Context, t *txn, op *Op, err error) error {
	w.mu.Lock()
	if t.failed {
		w.mu.Unlock()
		return err
	}
	t.failed = true
	t.cause = op.Action
	t.settled = make(chan struct{})
	if t.inflight == 0 {
		close(t.settled)
	}
	w.mu.Unlock()
	t.cancel()
	<-t.settled
	return w.undo(ctx, t, err)
}

// undo runs the undos of t's done operations, latest first, each even when
// the run was cancelled (bounded by undoTimeout), and says so in err.
func (w *walk) undo(ctx context.Context, t *txn, err error) error {
	w.mu.Lock()
	if t.undone {
		w.mu.Unlock()
		return err
	}
	t.undone = true
	done := slices.Clone(t.done)
	w.mu.Unlock()
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
	defer cancel()
	var undone []string
	var failures []error
	for i := len(done) - 1; i >= 0; i-- {
		u := done[i].Undo
		if u == nil {
			continue
		}
		reportOp(uctx, u, progress.Working, nil)
		if uerr := w.x.Execute(uctx, u, opNotes{uctx, u.Action, string(u.Kind)}); uerr != nil {
			reportOp(uctx, u, progress.Failed, uerr)
			failures = append(failures, uerr)
			continue
		}
		reportOp(uctx, u, progress.Done, nil)
		if u.Detail != "" {
			undone = append(undone, u.Detail)
			// An atomic deploy undoes other actions too: say so on each.
			progress.Report(uctx, u.Action, string(u.Kind), progress.Info, "rolled back: "+u.Detail, nil)
		}
	}
	switch {
	case len(failures) > 0:
		return fmt.Errorf("%w; rolling back failed: %w", err, errors.Join(failures...))
	case len(undone) > 0:
		return fmt.Errorf("%w; rolled back: %s", err, strings.Join(undone, ", "))
	}
	return err
}

// skipped handles an operation the walk will not run: a need failed, or the
// run was cancelled. Its transaction fails (what it began is undone) and its
// action is reported skipped once.
func (w *walk) skipped(ctx context.Context, op *Op, need string) {
	reason := "interrupted"
	if need != "" {
		reason = w.resource(need) + " did not succeed"
	}
	w.mu.Lock()
	t := w.txns[op.Txn]
	if t != nil && t.failed && t.cause != op.Action {
		reason = "rolled back: " + t.cause + " did not succeed"
	}
	as := w.actions[op.Action]
	// Skipped for its own action's failure: that failure is reported.
	report := !as.ended && w.resource(need) != op.Action
	as.ended = as.ended || report
	w.mu.Unlock()
	if t != nil {
		_ = w.failTxn(ctx, t, op, dag.ErrSkipped)
	}
	if report {
		progress.Report(ctx, op.Action, string(w.kind(as)), progress.Skipped, reason, nil)
	}
}

func (w *walk) kind(as *actionState) Kind {
	if as.action == nil {
		return ""
	}
	return as.action.Kind
}

func (w *walk) reason(as *actionState) string {
	if as.action == nil {
		return ""
	}
	return as.action.Reason
}

// reportOp reports one operation's progress: events with Op set, which
// --progress json shows and the line renderers leave out.
func reportOp(ctx context.Context, op *Op, status progress.Status, err error) {
	progress.FromContext(ctx).Event(progress.Event{
		Resource: op.Action, Action: string(op.Kind), Status: status, Op: op.ID,
		Message: op.Detail, Time: time.Now(), Err: err,
	})
}

// opNotes reports what an executor tells of one operation, under its
// action.
type opNotes struct {
	ctx            context.Context
	resource, kind string
}

func (n opNotes) Status(text string) {
	progress.Report(n.ctx, n.resource, n.kind, progress.Working, text, nil)
}

func (n opNotes) Warn(text string) {
	progress.Report(n.ctx, n.resource, n.kind, progress.Warning, text, nil)
}

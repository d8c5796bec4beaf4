package engine_test

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/progress"
)

// recorder collects progress events.
type recorder struct {
	mu     sync.Mutex
	events []progress.Event
}

func (r *recorder) Event(e progress.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// with lists the resources of the action events (not the operations') with
// status, sorted.
func (r *recorder) with(status progress.Status) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if e.Status == status && e.Op == "" {
			out = append(out, e.Resource)
		}
	}
	sort.Strings(out)
	return out
}

// executor is a fake that records the operations it runs, in order, and
// fails those named in fail.
type executor struct {
	mu   sync.Mutex
	ran  []string
	fail map[string]error
	// block, when set, holds an operation until its context is done.
	block map[string]bool
	// after holds an operation until another one has begun.
	after map[string]string
}

func (x *executor) Execute(ctx context.Context, op *engine.Op, _ engine.Notes) error {
	x.mu.Lock()
	x.ran = append(x.ran, op.ID)
	err, block, after := x.fail[op.ID], x.block[op.ID], x.after[op.ID]
	x.mu.Unlock()
	for after != "" && !slices.Contains(x.order(), after) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	if block {
		<-ctx.Done()
		return ctx.Err()
	}
	return err
}

func (x *executor) Close() error { return nil }

func (x *executor) order() []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return slices.Clone(x.ran)
}

func op(id, action string, needs ...string) *engine.Op {
	kind, _, _ := strings.Cut(id, " ")
	return &engine.Op{ID: id, Kind: engine.OpKind(kind), Action: action, Needs: needs}
}

func planOf(resources ...string) *engine.Plan {
	p := &engine.Plan{}
	for _, r := range resources {
		p.Actions = append(p.Actions, &engine.Action{Resource: r, Kind: engine.Recreate, Reason: "image changed"})
	}
	return p
}

// replacement is the shape of a Docker replacement: create the new, stop
// the old, start the new, wait; then remove the old and rename the new.
func replacement(action, name string) []*engine.Op {
	txn := "replace " + name
	create := op("create "+name+"-new", action)
	create.Undo = &engine.Op{Kind: engine.OpRemove, Detail: "removed " + name + "-new"}
	stop := op("stop "+name, action, create.ID)
	stop.Undo = &engine.Op{Kind: engine.OpStart, Detail: name + " runs again"}
	start := op("start "+name+"-new", action, stop.ID)
	start.Undo = &engine.Op{Kind: engine.OpRemove}
	wait := op("wait "+name+"-new", action, start.ID)
	wait.Kind = engine.OpWait
	for _, o := range []*engine.Op{create, stop, start, wait} {
		o.Txn = txn
	}
	remove := op("remove "+name, action, wait.ID)
	rename := op("rename "+name+"-new", action, remove.ID)
	return []*engine.Op{create, stop, start, wait, remove, rename}
}

func graph(t *testing.T, ops ...*engine.Op) *engine.Graph {
	t.Helper()
	g := &engine.Graph{Ops: ops}
	if err := g.Check(); err != nil {
		t.Fatal(err)
	}
	return g
}

func TestWalkReplacementSucceeds(t *testing.T) {
	rec := &recorder{}
	x := &executor{}
	g := graph(t, replacement("service:web", "web")...)
	if err := engine.Walk(progress.WithSink(t.Context(), rec), planOf("service:web"), g, x, 0); err != nil {
		t.Fatal(err)
	}
	want := []string{"create web-new", "stop web", "start web-new", "wait web-new", "remove web", "rename web-new"}
	if got := x.order(); !slices.Equal(got, want) {
		t.Errorf("ran %v, want %v", got, want)
	}
	if got := rec.with(progress.Done); !slices.Equal(got, []string{"service:web"}) {
		t.Errorf("done %v, want service:web once", got)
	}
}

func TestWalkFailedReplacementIsUndone(t *testing.T) {
	// The new container never turns ready: it is removed (start's undo)
	// before the old one runs again (stop's undo), then create's undo
	// finds it gone; the old is neither removed nor renamed over.
	for _, failing := range []string{"start web-new", "wait web-new", "create web-new"} {
		t.Run(failing, func(t *testing.T) {
			rec := &recorder{}
			x := &executor{fail: map[string]error{failing: errors.New("broke")}}
			g := graph(t, replacement("service:web", "web")...)
			err := engine.Walk(progress.WithSink(t.Context(), rec), planOf("service:web"), g, x, 0)
			if err == nil || !strings.HasPrefix(err.Error(), "broke") {
				t.Fatalf("error = %v, want the cause first", err)
			}
			ran := x.order()
			if slices.Contains(ran, "remove web") || slices.Contains(ran, "rename web-new") {
				t.Errorf("ran %v: the old container must stay", ran)
			}
			var undone []string
			for _, id := range ran {
				if strings.HasPrefix(id, "undo ") {
					undone = append(undone, id)
				}
			}
			want := map[string][]string{
				"create web-new": nil,
				"start web-new":  {"undo stop web", "undo create web-new"},
				"wait web-new":   {"undo start web-new", "undo stop web", "undo create web-new"},
			}[failing]
			if !slices.Equal(undone, want) {
				t.Errorf("undid %v, want %v", undone, want)
			}
			if len(want) > 1 && !strings.Contains(err.Error(), "rolled back: web runs again") {
				t.Errorf("error %q does not say the old container runs again", err)
			}
			if got := rec.with(progress.Failed); !slices.Equal(got, []string{"service:web"}) {
				t.Errorf("failed %v, want service:web once", got)
			}
		})
	}
}

func TestWalkSkippedTransactionIsUndone(t *testing.T) {
	// web's replacement waits for db before stopping the old web: db fails,
	// so web's new container, created meanwhile, is removed again.
	db := op("create db", "service:db")
	web := replacement("service:web", "web")
	web[1].Needs = append(web[1].Needs, db.ID)
	rec := &recorder{}
	x := &executor{fail: map[string]error{"create db": errors.New("db broke")}}
	err := engine.Walk(progress.WithSink(t.Context(), rec), planOf("service:db", "service:web"), graph(t, append([]*engine.Op{db}, web...)...), x, 0)
	if err == nil || err.Error() != "db broke" {
		t.Fatalf("error = %v, want db's failure alone", err)
	}
	ran := x.order()
	if !slices.Contains(ran, "undo create web-new") || slices.Contains(ran, "stop web") {
		t.Errorf("ran %v: want web-new removed and the old web never stopped", ran)
	}
	if got := rec.with(progress.Skipped); !slices.Equal(got, []string{"service:web"}) {
		t.Errorf("skipped %v, want service:web", got)
	}
}

func TestWalkTransactionCancelsItsOtherSteps(t *testing.T) {
	// Two replicas in one transaction (an atomic deploy): one fails while
	// the other waits; the wait is cancelled, not counted as a cause, and
	// both are undone.
	a, b := replacement("service:web", "web1"), replacement("service:web", "web2")
	for _, o := range append(slices.Clone(a), b...) {
		if o.Txn != "" {
			o.Txn = "deploy"
		}
	}
	x := &executor{
		fail:  map[string]error{"start web1-new": errors.New("broke")},
		block: map[string]bool{"wait web2-new": true},
		after: map[string]string{"start web1-new": "wait web2-new"},
	}
	err := engine.Walk(t.Context(), planOf("service:web"), graph(t, append(a, b...)...), x, 0)
	if err == nil || strings.Count(err.Error(), "broke") != 1 || strings.Contains(err.Error(), "canceled") {
		t.Fatalf("error = %v, want the one cause", err)
	}
	ran := x.order()
	for _, want := range []string{"undo stop web1", "undo stop web2", "undo start web2-new"} {
		if !slices.Contains(ran, want) {
			t.Errorf("ran %v, want %s", ran, want)
		}
	}
}

func TestWalkInterruptedReplacementIsUndone(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ops := replacement("service:web", "web")
	x := &executor{block: map[string]bool{"wait web-new": true}}
	done := make(chan error)
	go func() { done <- engine.Walk(ctx, planOf("service:web"), graph(t, ops...), x, 0) }()
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Contains(x.order(), "wait web-new") && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // the wait is under way once it is recorded
	}
	cancel()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if ran := x.order(); !slices.Contains(ran, "undo stop web") {
		t.Errorf("ran %v: Ctrl-C must leave the old container running", ran)
	}
}

// countingDriver counts Begin calls; it embeds the interface so a call it
// does not expect panics.
type countingDriver struct {
	engine.Driver
	begins atomic.Int32
}

func (d *countingDriver) Operations(*engine.Plan) (*engine.Graph, error) { return &engine.Graph{}, nil }

func (d *countingDriver) Begin(context.Context, *engine.Plan, engine.ApplyOptions) (engine.Executor, error) {
	d.begins.Add(1)
	return nil, errors.New("unexpected")
}

func TestApplyNothingChangedMakesNoDriverCalls(t *testing.T) {
	plan, err := engine.Diff(load(t, seed), seedImages, deployed(t, seed, seedImages), engine.DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := &countingDriver{}
	rec := &recorder{}
	if err := engine.Apply(progress.WithSink(t.Context(), rec), d, plan, engine.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := d.begins.Load(); n != 0 {
		t.Errorf("%d driver runs for a plan without changes, want 0", n)
	}
	if got := strings.Join(rec.with(progress.Done), " "); got != "network:default service:app service:redis volume:data" {
		t.Errorf("reported %q", got)
	}
}

// noting tells the walker of a status and a warning while it runs an
// operation.
type noting struct{ executor }

func (x *noting) Execute(ctx context.Context, op *engine.Op, notes engine.Notes) error {
	notes.Status("2/3 tasks running")
	notes.Warn("image has no digest")
	return x.executor.Execute(ctx, op, notes)
}

// What an executor notes is reported by the walker under the operation's
// action, the executor itself reporting nothing.
func TestWalkReportsWhatTheExecutorNotes(t *testing.T) {
	rec := &recorder{}
	g := graph(t, &engine.Op{ID: "update web", Kind: engine.OpUpdate, Target: "service:web", Action: "service:web"})
	if err := engine.Walk(progress.WithSink(t.Context(), rec), planOf("service:web"), g, &noting{}, 0); err != nil {
		t.Fatal(err)
	}
	if got := rec.with(progress.Warning); !slices.Equal(got, []string{"service:web"}) {
		t.Errorf("warnings reported for %v, want service:web", got)
	}
	found := false
	for _, e := range rec.events {
		found = found || (e.Resource == "service:web" && e.Status == progress.Working && e.Message == "2/3 tasks running")
	}
	if !found {
		t.Error("the executor's status was not reported under its action")
	}
}

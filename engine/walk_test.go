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

func (r *recorder) with(status progress.Status) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if e.Status == status {
			out = append(out, e.Resource)
		}
	}
	sort.Strings(out)
	return out
}

func action(resource string, waits ...string) *engine.Action {
	return &engine.Action{Resource: resource, Kind: engine.Create, WaitsFor: waits}
}

func TestWalkOrderAndFailure(t *testing.T) {
	// db fails: api (needs db) and web (needs api) are skipped and reported
	// once each; cache and its dependant worker, independent, still run.
	plan := &engine.Plan{Actions: []*engine.Action{
		action("service:db"), action("service:cache"),
		action("service:api", "service:db", "service:cache"),
		action("service:web", "service:api"),
		action("service:worker", "service:cache"),
	}}
	var (
		mu  sync.Mutex
		ran []string
	)
	rec := &recorder{}
	ctx := progress.WithSink(t.Context(), rec)
	err := engine.Walk(ctx, plan, 4, func(_ context.Context, a *engine.Action, _ func()) error {
		mu.Lock()
		ran = append(ran, a.Resource)
		mu.Unlock()
		if a.Resource == "service:db" {
			return errors.New("db broke")
		}
		return nil
	})
	if err == nil || err.Error() != "db broke" {
		t.Fatalf("error = %v, want only the root cause", err)
	}
	sort.Strings(ran)
	if want := []string{"service:cache", "service:db", "service:worker"}; !slices.Equal(ran, want) {
		t.Errorf("ran %v, want %v", ran, want)
	}
	if got, want := rec.with(progress.Skipped), []string{"service:api", "service:web"}; !slices.Equal(got, want) {
		t.Errorf("skipped %v, want %v", got, want)
	}
}

func TestWalkOptionalDependency(t *testing.T) {
	a := action("service:app", "service:metrics")
	a.Optional = []string{"service:metrics"}
	plan := &engine.Plan{Actions: []*engine.Action{action("service:metrics"), a}}
	var ran atomic.Int32
	err := engine.Walk(t.Context(), plan, 0, func(_ context.Context, a *engine.Action, _ func()) error {
		ran.Add(1)
		if a.Resource == "service:metrics" {
			return errors.New("metrics broke")
		}
		return nil
	})
	if err == nil || ran.Load() != 2 {
		t.Fatalf("error %v, ran %d: want the failure reported and app run anyway", err, ran.Load())
	}
}

func TestWalkRespectsDependenciesAndParallelLimit(t *testing.T) {
	// 3 layers x 4 wide, each waiting for the whole previous layer.
	var plan engine.Plan
	var prev []string
	for l := 0; l < 3; l++ {
		var layer []string
		for i := 0; i < 4; i++ {
			r := "service:s" + string(rune('a'+l)) + string(rune('0'+i))
			plan.Actions = append(plan.Actions, action(r, prev...))
			layer = append(layer, r)
		}
		prev = layer
	}
	var (
		mu             sync.Mutex
		done           = map[string]bool{}
		inflight, peak int
	)
	err := engine.Walk(t.Context(), &plan, 2, func(_ context.Context, a *engine.Action, _ func()) error {
		mu.Lock()
		for _, d := range a.WaitsFor {
			if !done[d] {
				t.Errorf("%s ran before %s", a.Resource, d)
			}
		}
		inflight++
		peak = max(peak, inflight)
		mu.Unlock()
		mu.Lock()
		inflight--
		done[a.Resource] = true
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if peak > 2 {
		t.Errorf("%d actions at once, limit 2", peak)
	}
}

func TestWalkCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	plan := &engine.Plan{Actions: []*engine.Action{action("service:a"), action("service:b", "service:a")}}
	rec := &recorder{}
	err := engine.Walk(progress.WithSink(ctx, rec), plan, 1, func(context.Context, *engine.Action, func()) error {
		cancel() // interrupted while a runs: a finishes, b is never started
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if got := rec.with(progress.Skipped); !slices.Equal(got, []string{"service:b"}) {
		t.Errorf("skipped %v, want service:b", got)
	}
}

func TestWalkAfterStart(t *testing.T) {
	// worker needs db started only, api needs it ready: worker runs while db
	// still waits for its healthcheck, api only after db is done.
	worker := action("service:worker", "service:db")
	worker.AfterStart = []string{"service:db"}
	plan := &engine.Plan{Actions: []*engine.Action{action("service:db"), worker, action("service:api", "service:db")}}
	workerRan := make(chan struct{})
	var dbDone atomic.Bool
	err := engine.Walk(t.Context(), plan, 0, func(_ context.Context, a *engine.Action, started func()) error {
		switch a.Resource {
		case "service:db":
			started()
			<-workerRan // still "waiting for healthy" until worker has run
			dbDone.Store(true)
		case "service:worker":
			close(workerRan)
		case "service:api":
			if !dbDone.Load() {
				t.Error("api ran before db was ready")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestWalkAfterStartFailureBeforeStart(t *testing.T) {
	worker := action("service:worker", "service:db")
	worker.AfterStart = []string{"service:db"}
	plan := &engine.Plan{Actions: []*engine.Action{action("service:db"), worker}}
	var ran atomic.Int32
	err := engine.Walk(t.Context(), plan, 0, func(_ context.Context, a *engine.Action, _ func()) error {
		ran.Add(1)
		if a.Resource == "service:db" {
			return errors.New("creating db failed")
		}
		return nil
	})
	if err == nil || ran.Load() != 1 {
		t.Fatalf("error %v, %d ran: want db's failure and worker skipped", err, ran.Load())
	}
}

func TestWalkCycle(t *testing.T) {
	plan := &engine.Plan{Actions: []*engine.Action{action("service:a", "service:b"), action("service:b", "service:a")}}
	err := engine.Walk(t.Context(), plan, 0, func(context.Context, *engine.Action, func()) error { return nil })
	if !errors.Is(err, engine.ErrCycle) {
		t.Fatalf("error = %v, want ErrCycle", err)
	}
}

// countingDriver counts every call; it embeds the interface so a call it
// does not expect panics.
type countingDriver struct {
	engine.Driver
	begins atomic.Int32
}

func (d *countingDriver) Begin(context.Context, *engine.Plan, engine.ApplyOptions) (engine.Session, error) {
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
		t.Errorf("%d driver sessions for a plan without changes, want 0", n)
	}
	if got := strings.Join(rec.with(progress.Done), " "); got != "network:default service:app service:redis volume:data" {
		t.Errorf("reported %q", got)
	}
}

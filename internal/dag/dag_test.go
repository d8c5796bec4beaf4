package dag_test

import (
	"context"
	"errors"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stack-deploy/stack/internal/dag"
)

func node(id string, needs ...string) dag.Node { return dag.Node{ID: id, Needs: needs} }

func TestWalkOrderAndFailure(t *testing.T) {
	// db fails: api (needs db) and web (needs api) are skipped, each
	// reported once; cache and its dependant worker, independent, still run.
	nodes := []dag.Node{node("db"), node("cache"), node("api", "db", "cache"), node("web", "api"), node("worker", "cache")}
	var (
		mu           sync.Mutex
		ran, skipped []string
	)
	err := dag.Walk(t.Context(), nodes, 4, dag.Hooks{Skipped: func(n dag.Node, need string) {
		mu.Lock()
		defer mu.Unlock()
		skipped = append(skipped, n.ID+"<"+need)
	}}, func(_ context.Context, i int) error {
		mu.Lock()
		ran = append(ran, nodes[i].ID)
		mu.Unlock()
		if nodes[i].ID == "db" {
			return errors.New("db broke")
		}
		return nil
	})
	if err == nil || err.Error() != "db broke" {
		t.Fatalf("error = %v, want only the root cause", err)
	}
	sort.Strings(ran)
	sort.Strings(skipped)
	if want := []string{"cache", "db", "worker"}; !slices.Equal(ran, want) {
		t.Errorf("ran %v, want %v", ran, want)
	}
	if want := []string{"api<db", "web<api"}; !slices.Equal(skipped, want) {
		t.Errorf("skipped %v, want %v", skipped, want)
	}
}

func TestWalkOptionalNeed(t *testing.T) {
	app := node("app", "metrics")
	app.Optional = []string{"metrics"}
	nodes := []dag.Node{node("metrics"), app}
	var ran atomic.Int32
	err := dag.Walk(t.Context(), nodes, 0, dag.Hooks{}, func(_ context.Context, i int) error {
		ran.Add(1)
		if nodes[i].ID == "metrics" {
			return errors.New("metrics broke")
		}
		return nil
	})
	if err == nil || ran.Load() != 2 {
		t.Fatalf("error %v, ran %d: want the failure reported and app run anyway", err, ran.Load())
	}
}

func TestWalkBoundsWorkNotWaits(t *testing.T) {
	// Three layers of four, each needing the whole layer above, at most two
	// at once; plus three waits that block until the last layer has run:
	// were they counted against the bound, the walk would never end.
	var nodes []dag.Node
	var prev []string
	for l := range 3 {
		var layer []string
		for i := range 4 {
			id := string(rune('a'+l)) + string(rune('0'+i))
			nodes = append(nodes, node(id, prev...))
			layer = append(layer, id)
		}
		prev = layer
	}
	release := make(chan struct{})
	for _, id := range []string{"w1", "w2", "w3"} {
		nodes = append(nodes, dag.Node{ID: id, Unbounded: true})
	}
	var (
		mu             sync.Mutex
		done           = map[string]bool{}
		inflight, peak int
		left           = 12
	)
	err := dag.Walk(t.Context(), nodes, 2, dag.Hooks{}, func(_ context.Context, i int) error {
		n := nodes[i]
		if n.Unbounded {
			<-release
			return nil
		}
		mu.Lock()
		for _, d := range n.Needs {
			if !done[d] {
				t.Errorf("%s ran before %s", n.ID, d)
			}
		}
		inflight++
		peak = max(peak, inflight)
		mu.Unlock()
		mu.Lock()
		inflight--
		done[n.ID] = true
		left--
		if left == 0 {
			close(release)
		}
		mu.Unlock()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if peak > 2 {
		t.Errorf("%d nodes at once, limit 2", peak)
	}
}

func TestWalkCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	nodes := []dag.Node{node("a"), node("b", "a")}
	var skipped []string
	err := dag.Walk(ctx, nodes, 1, dag.Hooks{Skipped: func(n dag.Node, need string) { skipped = append(skipped, n.ID+"<"+need) }},
		func(context.Context, int) error {
			cancel() // interrupted while a runs: a finishes, b is never begun
			return nil
		})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if !slices.Equal(skipped, []string{"b<"}) {
		t.Errorf("skipped %v, want b for the interruption", skipped)
	}
}

func TestCheck(t *testing.T) {
	if err := dag.Check([]dag.Node{node("a", "b"), node("b", "c"), node("c", "a")}); !errors.Is(err, dag.ErrCycle) || err.Error() != "dependency cycle: a -> b -> c -> a" {
		t.Errorf("cycle: %v", err)
	}
	if err := dag.Check([]dag.Node{node("a"), node("a")}); err == nil {
		t.Error("a duplicate ID passed")
	}
	if err := dag.Check([]dag.Node{node("a", "elsewhere"), node("b", "a")}); err != nil {
		t.Errorf("needs outside the graph are ignored: %v", err)
	}
}

func TestCycleIsLinear(t *testing.T) {
	// A ladder 200 deep where each rung needs both of the next: a search
	// that revisits nodes takes 2^200 steps.
	edges := map[string][]string{}
	var ids []string
	for i := range 200 {
		a, b := "a"+string(rune(i)), "b"+string(rune(i))
		na, nb := "a"+string(rune(i+1)), "b"+string(rune(i+1))
		edges[a], edges[b] = []string{na, nb}, []string{na, nb}
		ids = append(ids, a, b)
	}
	if c := dag.Cycle(ids, func(id string) []string { return edges[id] }); c != nil {
		t.Errorf("found a cycle in a DAG: %v", c)
	}
}

// Package dag walks a graph of named nodes in dependency order and finds
// cycles: the one walker and the one cycle check that the engine's
// operations, image builds and manifest validation all use.
//
// It knows nothing of what a node does: the caller's visit function does the
// work, and the walker only orders the calls, bounds how many run at once,
// and skips the dependants of a failure.
package dag

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/hashicorp/go-multierror"
)

// Node is one vertex: its ID is unique in the graph, Needs names the nodes
// that must finish first, and Optional the Needs whose failure does not stop
// this one. Needs that name no node of the graph are ignored.
type Node struct {
	ID       string
	Needs    []string
	Optional []string
	// Unbounded nodes do not count against the parallel bound: they wait
	// (for a container to turn healthy, say) rather than work.
	Unbounded bool
}

// ErrSkipped marks a node that was not visited: something it needs failed or
// was skipped, or the walk was cancelled.
var ErrSkipped = errors.New("skipped")

// ErrCycle is returned when nodes need each other in a cycle.
var ErrCycle = errors.New("dependency cycle")

// Hooks are told what the walker decided about nodes it did not visit.
type Hooks struct {
	// Skipped is called for a node not visited because need did not
	// succeed (empty when the walk was cancelled).
	Skipped func(n Node, need string)
}

// Walk calls visit for every node once everything it needs has succeeded,
// at most parallel at once (0 or less: no bound), and returns every root
// cause: visit's errors, not the skips they caused, and ctx's error once
// when it was cancelled. Independent branches go on after a failure.
// Cancelling ctx lets visits under way finish (they get the cancelled ctx)
// and skips the rest. The graph must have unique IDs and no cycle (Check).
func Walk(ctx context.Context, nodes []Node, parallel int, hooks Hooks, visit func(ctx context.Context, i int) error) error {
	if err := Check(nodes); err != nil {
		return err
	}
	index := make(map[string]int, len(nodes))
	for i, n := range nodes {
		index[n.ID] = i
	}
	done := make([]chan struct{}, len(nodes))
	errs := make([]error, len(nodes))
	for i := range nodes {
		done[i] = make(chan struct{})
	}
	var sem chan struct{}
	if parallel > 0 {
		sem = make(chan struct{}, parallel)
	}
	var (
		mu     sync.Mutex
		result *multierror.Error
		wg     sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if errors.Is(err, ctx.Err()) && slices.ContainsFunc(result.WrappedErrors(), func(e error) bool { return errors.Is(e, ctx.Err()) }) {
			return
		}
		result = multierror.Append(result, err)
	}
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(done[i])
			for _, need := range n.Needs {
				j, ok := index[need]
				if !ok {
					continue
				}
				<-done[j]
				if errs[j] != nil && !slices.Contains(n.Optional, need) {
					errs[i] = ErrSkipped
					if hooks.Skipped != nil {
						hooks.Skipped(n, need)
					}
					return
				}
			}
			if sem != nil && !n.Unbounded {
				select {
				case sem <- struct{}{}:
					defer func() { <-sem }()
				case <-ctx.Done():
				}
			}
			if ctx.Err() != nil {
				errs[i] = ErrSkipped
				if hooks.Skipped != nil {
					hooks.Skipped(n, "")
				}
				fail(ctx.Err())
				return
			}
			if err := visit(ctx, i); err != nil {
				errs[i] = err
				if !errors.Is(err, ErrSkipped) {
					fail(err)
				}
			}
		}()
	}
	wg.Wait()
	if result == nil {
		return nil
	}
	result.ErrorFormat = ListErrors
	return result
}

// ListErrors renders several root causes one a line, one alone as itself.
func ListErrors(errs []error) string {
	if len(errs) == 1 {
		return errs[0].Error()
	}
	s := fmt.Sprintf("%d errors:", len(errs))
	for _, err := range errs {
		s += "\n  * " + err.Error()
	}
	return s
}

// Check reports a duplicate ID or a cycle among nodes.
func Check(nodes []Node) error {
	needs := make(map[string][]string, len(nodes))
	ids := make([]string, 0, len(nodes))
	for _, n := range nodes {
		if _, dup := needs[n.ID]; dup {
			return fmt.Errorf("node %q appears twice in the graph", n.ID)
		}
		needs[n.ID] = n.Needs
		ids = append(ids, n.ID)
	}
	if c := Cycle(ids, func(id string) []string { return needs[id] }); c != nil {
		return fmt.Errorf("%w: %s", ErrCycle, Path(c))
	}
	return nil
}

// Cycle returns a cycle among ids, following edges (names that are not in
// ids are ignored), as the path that closes it (a, b, a); nil when there is
// none.
func Cycle(ids []string, edges func(id string) []string) []string {
	if cs := Cycles(ids, edges); len(cs) > 0 {
		return cs[0]
	}
	return nil
}

// Cycles returns the cycle each back edge closes in a depth-first search
// from ids in order, each as the path that closes it; a loop can be found
// more than once, from different starts. It visits each node once: linear
// in nodes and edges.
func Cycles(ids []string, edges func(id string) []string) [][]string {
	known := make(map[string]bool, len(ids))
	for _, id := range ids {
		known[id] = true
	}
	const (
		unvisited = iota
		visiting
		visited
	)
	state := make(map[string]int, len(ids))
	var stack []string
	var out [][]string
	var visit func(id string)
	visit = func(id string) {
		state[id] = visiting
		stack = append(stack, id)
		for _, next := range edges(id) {
			if !known[next] {
				continue
			}
			switch state[next] {
			case visiting:
				at := slices.Index(stack, next)
				out = append(out, append(slices.Clone(stack[at:]), next))
			case unvisited:
				visit(next)
			}
		}
		stack = stack[:len(stack)-1]
		state[id] = visited
	}
	for _, id := range ids {
		if state[id] == unvisited {
			visit(id)
		}
	}
	return out
}

// Path renders a cycle as "a -> b -> a".
func Path(cycle []string) string {
	s := ""
	for i, id := range cycle {
		if i > 0 {
			s += " -> "
		}
		s += id
	}
	return s
}

// Each calls fn for 0..n-1, at most parallel at once (0 or less: no bound):
// Walk over n independent nodes. It returns every error fn returned, and
// ctx's error once when it was cancelled (the calls not yet begun are not
// made).
func Each(ctx context.Context, n, parallel int, fn func(ctx context.Context, i int) error) error {
	nodes := make([]Node, n)
	for i := range nodes {
		nodes[i].ID = strconv.Itoa(i)
	}
	return Walk(ctx, nodes, parallel, Hooks{}, fn)
}

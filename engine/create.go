package engine

import "slices"

// Creator is a driver that can create what up would without starting
// anything (`stack create`): it cuts a plan's operations down to those.
// One whose engine starts what it creates (a Swarm service) refuses with
// an error saying so, before anything changes.
type Creator interface {
	CreateOnly(plan *Plan) error
}

// WithoutStarts takes out of plan's operations every start, unpause,
// restart and wait, each operation that needed one needing instead what it
// needed: what is left creates, replaces (the old container stopped and
// removed) and removes, and starts nothing. An action left with no
// operation (a container to start) is unchanged. A pure change of the
// graph, for the drivers whose engines create without starting.
func WithoutStarts(plan *Plan) {
	byID := map[string]*Op{}
	for _, op := range plan.Graph.Ops {
		byID[op.ID] = op
	}
	through := passThrough(byID, startsOrWaits)
	kept := plan.Graph.Ops[:0]
	left := map[string]bool{}
	for _, op := range plan.Graph.Ops {
		if startsOrWaits(op) {
			continue
		}
		var needs, required, optional []string
		for _, n := range op.Needs {
			ids := through(n)
			needs = union(needs, ids)
			if slices.Contains(op.Optional, n) {
				optional = union(optional, ids)
			} else {
				required = union(required, ids)
			}
		}
		op.Needs, op.Optional = needs, slices.DeleteFunc(optional, func(id string) bool { return slices.Contains(required, id) })
		kept = append(kept, op)
		left[op.Action] = true
	}
	plan.Graph.Ops = kept
	for _, a := range plan.Actions {
		if a.Type() == "service" && !left[a.Resource] && a.Kind != Unchanged {
			a.Kind, a.Reason = Unchanged, "exists; create starts nothing"
		}
	}
}

func startsOrWaits(op *Op) bool {
	switch op.Kind {
	case OpStart, OpUnpause, OpRestart, OpWait:
		return true
	}
	return false
}

// passThrough returns what stands for an operation once those drop
// removes are gone: itself, or (for a dropped one) what it needed, in
// turn. The graph has no cycle: Operations checked it.
func passThrough(byID map[string]*Op, drop func(*Op) bool) func(id string) []string {
	memo := map[string][]string{}
	var through func(id string) []string
	through = func(id string) []string {
		op := byID[id]
		if !drop(op) {
			return []string{id}
		}
		if m, ok := memo[id]; ok {
			return m
		}
		var out []string
		for _, n := range op.Needs {
			out = union(out, through(n))
		}
		memo[id] = out
		return out
	}
	return through
}

// union appends to a the strings of b it does not hold.
func union(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}

package docker

import (
	"sort"

	"github.com/stack-deploy/stack/engine"
)

// replica is the step of a service action on one container number.
type replica struct {
	number int
	kind   engine.Kind
	// c is the observed container acted on; nil for a create.
	c *engine.Container
	// connect names the desired networks the container is not attached
	// to, or lacks an alias on: it is connected (again) before it starts.
	connect []string
	// rename: the container is under the temporary name of a replacement
	// that did not finish, and takes the service's name.
	rename bool
	// leftover: the container is one that an interrupted replacement left
	// beside the one kept; it is removed.
	leftover bool
}

// replicas works out the containers a's steps act on. An action with a
// desired configuration (up's) converges each replica number to it; one
// without (stop, start, restart, down, an orphan's removal) does its kind
// to every container of the service it applies to.
func (b *builder) replicas(a *engine.Action) []replica {
	cs := containersOf(b.plan, a.Service(), a.OneOff)
	s, desired := b.plan.Desired.Project.Services[a.Name()]
	if a.ConfigHash == "" || !desired || a.Orphan {
		var out []replica
		for i := range cs {
			c := &cs[i]
			if (a.Kind == engine.Stop && !c.Running()) || (a.Kind == engine.Start && c.Running()) {
				continue
			}
			out = append(out, replica{number: c.Number, kind: a.Kind, c: c})
		}
		return out
	}
	return converge(a, cs, engine.DesiredNetworks(b.plan.Desired.Project, s), s.GetScale())
}

// converge is a step for each replica number of the containers cs of a's
// service (leftovers of an interrupted replacement removed) and a create
// for each number up to want that has none.
func converge(a *engine.Action, cs []engine.Container, networks map[string][]string, want int) []replica {
	var out []replica
	numbers, byNumber := byNumber(cs)
	for _, n := range numbers {
		c, rest := primary(byNumber[n])
		for _, l := range rest {
			out = append(out, replica{number: n, kind: engine.Remove, c: l, leftover: true})
		}
		r := step(a, n, c, networks, want)
		if a.Kind == engine.Restart && r.kind == engine.Unchanged {
			r.kind = engine.Restart // a dependency declared with restart: true was replaced
		}
		out = append(out, r)
	}
	for n := 1; n <= want; n++ {
		if len(byNumber[n]) == 0 {
			out = append(out, replica{number: n, kind: engine.Create})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].number < out[j].number })
	return out
}

// step is the step for the container c kept for number n.
func step(a *engine.Action, n int, c *engine.Container, networks map[string][]string, want int) replica {
	r := replica{number: n, c: c}
	switch {
	case n < 1 || n > want:
		r.kind = engine.Remove
		return r
	case a.Recreate == engine.RecreateForce,
		c.Compose && a.Recreate != engine.RecreateNever,
		c.Hash != a.ConfigHash && a.Recreate != engine.RecreateNever,
		c.State == "dead":
		r.kind = engine.Recreate
		return r
	}
	r.connect, _ = engine.NetworkDrift(c.Networks, networks)
	r.rename = c.Temporary
	switch {
	case c.Running() || (a.Ready == engine.Completed && c.Completed()):
		r.kind = engine.Unchanged
		if len(r.connect) > 0 || r.rename {
			r.kind = engine.Repair
		}
	default:
		r.kind = engine.Start
	}
	return r
}

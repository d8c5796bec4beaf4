package docker

import (
	"fmt"
	"sort"
	"strings"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
)

// observedContainers is what this driver keeps of an Observe beyond the
// services' states (engine.Observed.Driver): the containers, by which its
// Operations work out which replica each step acts on.
type observedContainers struct {
	containers []engine.Container
}

// observed gives the containers read for p's project the shape Diff reads:
// one state per service (its one-off runs apart), each summing up its
// replicas by container number. A number's container is the one under the
// service's name, else the newest under a temporary name (a replacement
// interrupted); the others beside it are leftovers the next run removes.
// Networks, volumes and the gateway are filled by the caller.
func observed(p *manifest.Project, cs []engine.Container) *engine.Observed {
	obs := &engine.Observed{Driver: &observedContainers{containers: cs}}
	type key struct {
		service string
		oneOff  bool
	}
	byService := map[key][]engine.Container{}
	var keys []key
	for _, c := range cs {
		k := key{c.Service, c.OneOff}
		if _, ok := byService[k]; !ok {
			keys = append(keys, k)
		}
		byService[k] = append(byService[k], c)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].service != keys[j].service {
			return keys[i].service < keys[j].service
		}
		return !keys[i].oneOff
	})
	for _, k := range keys {
		st := engine.ServiceState{Name: k.service, OneOff: k.oneOff}
		if k.oneOff {
			st.Replicas = len(byService[k])
		} else {
			summarize(&st, p, byService[k])
		}
		for _, c := range byService[k] {
			for name, ep := range c.Networks {
				st.Networks = append(st.Networks, name, ep.NetworkID)
			}
			st.Volumes = append(st.Volumes, c.Volumes...)
		}
		obs.Services = append(obs.Services, st)
	}
	return obs
}

// summarize fills st from the containers of one service.
func summarize(st *engine.ServiceState, p *manifest.Project, cs []engine.Container) {
	var want map[string][]string
	if s, ok := p.Project.Services[st.Name]; ok {
		want = engine.DesiredNetworks(p.Project, s)
	}
	var drift []string
	numbers, byNumber := byNumber(cs)
	st.Replicas = len(numbers)
	for i, n := range numbers {
		c, rest := primary(byNumber[n])
		for _, l := range rest {
			drift = append(drift, fmt.Sprintf("%s is left from an interrupted replacement", l.Name))
		}
		if n != i+1 {
			drift = append(drift, fmt.Sprintf("%s is replica %d of %d", c.Name, n, len(numbers)))
		}
		addVersion(st, c.Hash, c.Parts)
		switch {
		case c.Compose:
			st.Foreign = "created by Docker Compose"
		case c.State == "dead" && st.Broken == "":
			st.Broken = "container is dead"
		}
		if c.Running() {
			st.Running++
		} else {
			if c.Completed() {
				st.Completed++
			}
			if st.Stopped == "" {
				st.Stopped = c.NotRunning()
			}
		}
		if _, why := engine.NetworkDrift(c.Networks, want); why != "" {
			drift = append(drift, why)
		}
		if c.Temporary {
			drift = append(drift, fmt.Sprintf("%s takes the service's name", c.Name))
		}
	}
	st.Drift = strings.Join(drift, "; ")
}

func addVersion(st *engine.ServiceState, hash, parts string) {
	for i := range st.Versions {
		if st.Versions[i].Hash == hash {
			st.Versions[i].Count++
			return
		}
	}
	st.Versions = append(st.Versions, engine.Version{Hash: hash, Parts: parts, Count: 1})
}

// byNumber groups containers by replica number, the numbers in order.
func byNumber(cs []engine.Container) ([]int, map[int][]*engine.Container) {
	by := map[int][]*engine.Container{}
	for i := range cs {
		by[cs[i].Number] = append(by[cs[i].Number], &cs[i])
	}
	numbers := make([]int, 0, len(by))
	for n := range by {
		numbers = append(numbers, n)
	}
	sort.Ints(numbers)
	return numbers, by
}

// primary picks, among the containers of one number, the one the service
// keeps: the one under its own name, else the newest under a temporary
// name; the others are leftovers of an interrupted replacement.
func primary(cs []*engine.Container) (*engine.Container, []*engine.Container) {
	keep := -1
	for i, c := range cs {
		if !c.Temporary {
			keep = i
			break
		}
	}
	if keep < 0 {
		keep = 0
		for i, c := range cs {
			if c.Created.After(cs[keep].Created) {
				keep = i
			}
		}
	}
	var rest []*engine.Container
	for i, c := range cs {
		if i != keep {
			rest = append(rest, c)
		}
	}
	return cs[keep], rest
}

// containersOf returns the observed containers of service (its one-off
// runs with oneOff), by number and name.
func containersOf(plan *engine.Plan, service string, oneOff bool) []engine.Container {
	oc, _ := plan.Observed.Driver.(*observedContainers)
	if oc == nil {
		return nil
	}
	var out []engine.Container
	for _, c := range oc.containers {
		if c.Service == service && c.OneOff == oneOff {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Number != out[j].Number {
			return out[i].Number < out[j].Number
		}
		return out[i].Name < out[j].Name
	})
	return out
}

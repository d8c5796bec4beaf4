package engine

import (
	"fmt"
	"sort"

	"github.com/stack-deploy/stack/manifest"
)

// DownOptions steer Down, with the meaning of `stack down`'s flags.
type DownOptions struct {
	// Volumes removes the project's named volumes too; they are kept otherwise.
	Volumes bool
	// RemoveOrphans removes the containers (one-off runs included) of
	// services gone from the manifest; a one-off run of a service of the
	// manifest goes with it. Docker Compose (v5.6) leaves those running,
	// and then cannot remove the network they hold ("Resource is still in
	// use"): down takes the whole project away.
	RemoveOrphans bool
	// Images are the image references to remove after the containers.
	Images []string
}

// Down plans the removal of what the project has on the engine: containers
// in reverse dependency order (a service goes after everything that depends
// on it), then networks, and volumes and images when asked. It is pure.
func Down(m *manifest.Project, obs *Observed, o DownOptions) *Plan {
	if obs == nil {
		obs = &Observed{}
	}
	p := m.Project
	plan := &Plan{Project: p.Name, Desired: m, Observed: obs}
	byKey := map[string]ServiceState{}
	for _, st := range obs.Services {
		key := st.Name
		if st.OneOff {
			key = st.Name + OneOffSuffix
		}
		byKey[key] = st
	}
	names := make([]string, 0, len(byKey))
	for name := range byKey {
		names = append(names, name)
	}
	sort.Strings(names)
	var containers []string
	for _, key := range names {
		st := byKey[key]
		a := &Action{Resource: "service:" + key, Kind: Remove, Volumes: o.Volumes, OneOff: st.OneOff}
		if !inProject(p, st.Name) {
			a.Orphan = true
			a.Reason = "orphan: not in the manifest"
			if !o.RemoveOrphans {
				a.Kind, a.Reason = Unchanged, "orphan: not in the manifest; --remove-orphans removes it"
			}
		} else if !st.OneOff {
			// A service stops after its dependants (their one-off runs
			// too) have stopped; removing their stopped containers need
			// not hold it up (AfterStart: for a removal, the containers
			// are stopped).
			for _, other := range names {
				if _, dependant := p.Services[byKey[other].Name].DependsOn[st.Name]; dependant && other != key {
					a.WaitsFor = append(a.WaitsFor, "service:"+other)
					a.AfterStart = append(a.AfterStart, "service:"+other)
				}
			}
		}
		plan.Actions = append(plan.Actions, a)
		if a.Kind == Remove {
			containers = append(containers, a.Resource)
		}
	}
	if obs.Gateway != nil {
		plan.Actions = append(plan.Actions, &Action{Resource: GatewayResource, Kind: Remove})
		containers = append(containers, GatewayResource)
	}
	plan.Actions = append(plan.Actions, removeResources("network", obs.Networks, obs.usedNetworks(true), containers)...)
	if o.Volumes {
		plan.Actions = append(plan.Actions, removeResources("volume", obs.Volumes, obs.usedVolumes(true), containers)...)
	}
	for _, img := range o.Images {
		plan.Actions = append(plan.Actions, &Action{Resource: "image:" + img, Kind: Remove, WaitsFor: containers})
	}
	return plan
}

// removeResources plans removing the project's networks or volumes: one
// action a compose key, acting on every one the engine has of it (a race can
// have made two), those stack or Docker Compose created and those stack
// adopted (used by the project's containers); waitsFor are the container
// removals.
func removeResources(typ string, have []Resource, used map[string]bool, waitsFor []string) []*Action {
	byKey := map[string][]Resource{}
	for _, r := range have {
		if r.Foreign && !used[r.Name] && !used[r.ID] {
			continue // not the project's: stack did not create or adopt it
		}
		byKey[r.Key] = append(byKey[r.Key], r)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*Action, 0, len(keys))
	for _, k := range keys {
		a := &Action{Resource: typ + ":" + k, Kind: Remove, WaitsFor: waitsFor, Resources: byKey[k]}
		if n := len(byKey[k]); n > 1 {
			a.Reason = fmt.Sprintf("%d %ss of this key", n, typ)
		}
		out = append(out, a)
	}
	return out
}

package swarm

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
)

// Observe reads what the manager holds for p's project and gives it the
// shape engine.Diff compares with (the Swarm terms are in Driver, for
// Operations):
//
//   - each Swarm service as the replicas its spec asks for (a global
//     service or a global job as one), of the spec's config hash: Diff
//     scales when the count differs, replaces (Operations: updates) when
//     the hash does, and repairs a lost network or alias. They run (Swarm
//     keeps its tasks running, rescheduling them when a node goes) unless
//     Swarm paused an update; a job's have run to completion, or failed;
//   - the project's overlay networks, and those named as its own that it
//     did not create;
//   - its named volumes as the services mount them: each node creates a
//     volume when a task first mounts it there, so the mounts are the
//     manager's record of them.
func (d *Driver) Observe(ctx context.Context, p *manifest.Project) (*engine.Observed, error) {
	o, err := Observe(ctx, d.client, p.Name)
	if err != nil {
		return nil, err
	}
	return observed(p, o), nil
}

// observed turns what a manager holds into engine's terms (see Observe).
func observed(p *manifest.Project, o *Observed) *engine.Observed {
	out := &engine.Observed{Driver: o}
	byID := map[string]string{} // network ID or name -> name
	for _, n := range append(slices.Clone(o.Networks), o.Others...) {
		byID[n.ID], byID[n.Name] = n.Name, n.Name
	}
	volumes := map[string]engine.Resource{}
	for _, s := range o.Services {
		out.Services = append(out.Services, serviceState(p, s, byID))
		for _, v := range s.Volumes {
			volumes[v.Key+"\x00"+v.Name] = engine.Resource{Key: v.Key, Name: v.Name, Hash: v.Hash}
		}
	}
	for _, n := range o.Networks {
		out.Networks = append(out.Networks, engine.Resource{Key: n.Key, Name: n.Name, ID: n.ID, Hash: n.Hash})
	}
	keys := map[string]string{} // engine name -> compose key, of the project's own networks
	for k, n := range p.Project.Networks {
		if !bool(n.External) {
			keys[n.Name] = k
		}
	}
	for _, n := range o.Others {
		if key, ok := keys[n.Name]; ok {
			out.Networks = append(out.Networks, engine.Resource{Key: key, Name: n.Name, ID: n.ID, Foreign: true})
		}
	}
	for _, v := range volumes {
		out.Volumes = append(out.Volumes, v)
	}
	sort.Slice(out.Volumes, func(i, j int) bool { return out.Volumes[i].Name < out.Volumes[j].Name })
	return out
}

// serviceState is what Diff reads of one Swarm service; byID names the
// networks by ID.
func serviceState(p *manifest.Project, s ObservedService, byID map[string]string) engine.ServiceState {
	n := 1
	if (s.Mode == "replicated" || s.Mode == "replicated-job") && s.Replicas != nil {
		n = int(*s.Replicas)
	}
	st := engine.ServiceState{Name: s.Service, OneOff: s.OneOff, Replicas: n, Running: n}
	if n > 0 {
		st.Versions = []engine.Version{{Hash: s.Hash, Parts: s.Parts, Count: n}}
	}
	switch {
	case s.Job() && s.Complete():
		st.Running, st.Completed, st.Stopped = 0, n, "exited with code 0"
	case s.Job() && s.Running == 0 && s.Failure != "":
		st.Running, st.Stopped = 0, fmt.Sprintf("exited with code %d", s.ExitCode)
	case s.UpdateState == "paused" || s.UpdateState == "rollback_paused":
		st.Running, st.Stopped = 0, "paused"
	}
	have := map[string]engine.Endpoint{}
	for _, a := range s.Networks {
		if name, ok := byID[a.Target]; ok {
			have[name] = engine.Endpoint{NetworkID: a.Target, Aliases: slices.Clone(a.Aliases)}
			st.Networks = append(st.Networks, name, a.Target)
		}
	}
	if svc, ok := p.Project.Services[s.Service]; ok && !s.OneOff {
		_, st.Drift = engine.NetworkDrift(have, engine.DesiredNetworks(p.Project, svc))
	}
	for _, v := range s.Volumes {
		st.Volumes = append(st.Volumes, v.Name)
	}
	return st
}

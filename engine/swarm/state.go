package swarm

import (
	"context"
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
//     service or a global job as one), numbered 1..n, carrying the spec's
//     config hash and the networks and aliases its tasks have: Diff scales
//     when the count differs, replaces (Operations: updates) when the hash
//     does, and repairs a lost network or alias. A replica's state is the
//     service's: running (Swarm keeps its tasks running, rescheduling them
//     when a node goes), paused when Swarm paused an update, and for a job
//     exited, with code 0 once complete;
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
		c := engine.Container{ID: s.ID, Name: s.Name, Service: s.Service, OneOff: s.OneOff, Hash: s.Hash, Parts: s.Parts, State: "running"}
		switch {
		case s.Job() && s.Complete():
			c.State = "exited"
		case s.Job() && s.Running == 0 && s.Failure != "":
			c.State, c.ExitCode = "exited", s.ExitCode
		case s.UpdateState == "paused" || s.UpdateState == "rollback_paused":
			c.State = "paused"
		}
		c.Networks = map[string]engine.Endpoint{}
		for _, n := range s.Networks {
			if name, ok := byID[n.Target]; ok {
				c.Networks[name] = engine.Endpoint{NetworkID: n.Target, Aliases: slices.Clone(n.Aliases)}
			}
		}
		for _, v := range s.Volumes {
			c.Volumes = append(c.Volumes, v.Name)
			volumes[v.Key+"\x00"+v.Name] = engine.Resource{Key: v.Key, Name: v.Name, Hash: v.Hash}
		}
		n := 1
		if (s.Mode == "replicated" || s.Mode == "replicated-job") && s.Replicas != nil {
			n = int(*s.Replicas)
		}
		for i := 1; i <= n; i++ {
			c.Number = i
			out.Containers = append(out.Containers, c)
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

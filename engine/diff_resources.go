package engine

import (
	"fmt"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// desiredResource is a network or volume the selected services use.
type desiredResource struct {
	name string // the engine's name
	cfg  any    // its compose definition, hashed
}

// diffNetworks plans the networks of the selected services and those the
// gateway joins (gateway may be nil).
func diffNetworks(p *types.Project, order []string, gateway *Action, obs *Observed) ([]*Action, error) {
	want := map[string]desiredResource{}
	keys := []string{}
	for _, name := range order {
		keys = append(keys, ServiceNetworks(p.Services[name])...)
	}
	if gateway != nil && gateway.Kind != Remove {
		for _, w := range gateway.WaitsFor {
			keys = append(keys, strings.TrimPrefix(w, "network:"))
		}
	}
	for _, n := range keys {
		if cfg, ok := p.Networks[n]; ok && !bool(cfg.External) {
			want[n] = desiredResource{cfg.Name, cfg}
		}
	}
	return resourceActions("network", want, obs.Networks, obs.usedNetworks(false))
}

func diffVolumes(p *types.Project, order []string, obs *Observed) ([]*Action, error) {
	want := map[string]desiredResource{}
	for _, name := range order {
		for _, v := range ServiceVolumes(p, p.Services[name]) {
			if cfg := p.Volumes[v]; !bool(cfg.External) {
				want[v] = desiredResource{cfg.Name, cfg}
			}
		}
	}
	return resourceActions("volume", want, obs.Volumes, obs.usedVolumes(false))
}

// resourceActions plans each wanted network or volume: create it when the
// engine has none of its name; adopt one of its name that stack did not
// create, Docker Compose's for this project first (with a warning the first
// time: once stack's own containers use it, it is the project's); remove
// the unused duplicates of a network (a race between two runs can make two
// of one name); keep the others, marking those whose definition changed
// since they were created. used names what stack's containers use.
func resourceActions(typ string, want map[string]desiredResource, have []Resource, used map[string]bool) ([]*Action, error) {
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*Action, 0, len(keys))
	for _, k := range keys {
		d := want[k]
		h, err := ResourceHash(d.cfg)
		if err != nil {
			return nil, err
		}
		a := &Action{Resource: typ + ":" + k, Kind: Unchanged, ConfigHash: h}
		var ours, others []Resource // others: Docker Compose's first, then foreign ones
		for _, r := range have {
			switch {
			case r.Name != d.name:
			case r.Compose:
				others = append([]Resource{r}, others...)
			case r.Foreign:
				others = append(others, r)
			case r.Key == k:
				ours = append(ours, r)
			}
		}
		switch {
		case len(ours) == 0 && len(others) > 0:
			a.Kind, a.Reason = adoption(typ, d.name, others[0], used)
		case len(ours) == 0:
			a.Kind, a.Reason = Create, "new "+typ
		case len(ours) > 1:
			extra, err := duplicates(typ, d.name, ours, used)
			if err != nil {
				return nil, err
			}
			a.Kind, a.Resources = Repair, extra
			a.Reason = fmt.Sprintf("%d %ss named %q: the unused %s removed", len(ours), typ, d.name, plural(len(extra), "duplicate is", "duplicates are"))
		case ours[0].Hash != "" && ours[0].Hash != h:
			a.Stale = true
			a.Reason = "definition changed; kept: `stack down` then `stack up` applies it"
			if typ == "volume" {
				a.Reason = "definition changed; kept with its data: `stack down -v` then `stack up` applies it"
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// adoption plans taking over r, a network or volume named name that stack
// did not create: Adopt with a warning until stack's containers use it,
// unchanged after.
func adoption(typ, name string, r Resource, used map[string]bool) (Kind, string) {
	adopted := used[r.Name] || used[r.ID]
	switch {
	case r.Compose && adopted:
		return Unchanged, "adopted from Docker Compose"
	case r.Compose:
		return Adopt, fmt.Sprintf("%s %q was created by Docker Compose: stack takes it over as it is", typ, name)
	case adopted:
		return Unchanged, "adopted: not created by stack"
	}
	return Adopt, fmt.Sprintf("%s %q exists but was not created by stack: it is used as it is (declare it external: true to say so)", typ, name)
}

// duplicates picks the network of a name to keep (the one the containers
// use, else the oldest) and returns the others, which must be unused.
func duplicates(typ, name string, rs []Resource, used map[string]bool) ([]Resource, error) {
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Created.Before(rs[j].Created) })
	keep := 0
	var inUse []string
	for i, r := range rs {
		if used[r.ID] {
			if len(inUse) == 0 {
				keep = i
			}
			inUse = append(inUse, shortID(r.ID))
		}
	}
	if len(inUse) > 1 {
		return nil, fmt.Errorf("%d %ss are named %q and containers of the project use %d of them (%s): "+
			"run `stack down`, which removes them all, then `stack up`", len(rs), typ, name, len(inUse), strings.Join(inUse, ", "))
	}
	var extra []Resource
	for i, r := range rs {
		if i != keep {
			extra = append(extra, r)
		}
	}
	return extra, nil
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

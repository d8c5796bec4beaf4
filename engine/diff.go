package engine

import (
	"fmt"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stack-deploy/stack/manifest"
)

// DiffOptions narrow and steer a Diff, with the meaning of `stack up`'s flags.
type DiffOptions struct {
	// Services limits the plan to these services and, unless NoDeps, their
	// dependencies; empty: every service.
	Services      []string
	NoDeps        bool
	ForceRecreate bool
	NoRecreate    bool
	RemoveOrphans bool
}

// Diff compares the desired project (images: service -> image ID, missing
// entries hash as unknown) with what was observed and returns the Plan that
// converges one to the other. It is pure: no engine, no clock, no randomness.
func Diff(m *manifest.Project, images map[string]string, obs *Observed, o DiffOptions) (*Plan, error) {
	if obs == nil {
		obs = &Observed{}
	}
	p := m.Project
	order, err := SelectServices(m, o.Services, o.NoDeps)
	if err != nil {
		return nil, err
	}
	plan := &Plan{Project: p.Name, Desired: m, Images: images, Observed: obs}
	networks, err := diffNetworks(p, order, obs)
	if err != nil {
		return nil, err
	}
	volumes, err := diffVolumes(p, order, obs)
	if err != nil {
		return nil, err
	}
	plan.Actions = append(plan.Actions, networks...)
	plan.Actions = append(plan.Actions, volumes...)

	selected := map[string]bool{}
	for _, name := range order {
		selected[name] = true
	}
	for _, name := range order {
		a, err := diffService(p, p.Services[name], images[name], obs, selected, o)
		if err != nil {
			return nil, err
		}
		propagateRestart(plan, p.Services[name], a, selected)
		plan.Actions = append(plan.Actions, a)
	}
	plan.Actions = append(plan.Actions, diffOrphans(p, obs, o.RemoveOrphans)...)
	return plan, nil
}

// SelectServices returns the named services (all when none) and, unless
// noDeps, their dependencies, in dependency order (dependencies first, ties
// by name). An unknown name is an error naming the known ones.
func SelectServices(m *manifest.Project, names []string, noDeps bool) ([]string, error) {
	p := m.Project
	selected := map[string]bool{}
	var add func(string)
	add = func(name string) {
		if selected[name] {
			return
		}
		selected[name] = true
		if noDeps {
			return
		}
		for dep := range p.Services[name].DependsOn {
			if _, ok := p.Services[dep]; ok {
				add(dep)
			}
		}
	}
	if len(names) == 0 {
		names = p.ServiceNames()
	}
	for _, name := range names {
		if _, ok := p.Services[name]; !ok {
			return nil, fmt.Errorf("%s: service %q: not in the project (services: %s); check the name or the enabled profiles",
				strings.Join(p.ComposeFiles, ", "), name, strings.Join(p.ServiceNames(), ", "))
		}
		add(name)
	}
	level := map[string]int{}
	visiting := map[string]bool{}
	var depth func(string) (int, error)
	depth = func(name string) (int, error) {
		if l, ok := level[name]; ok {
			return l, nil
		}
		if visiting[name] {
			return 0, fmt.Errorf("service %q: %w in depends_on", name, ErrCycle)
		}
		visiting[name] = true
		l := 0
		for dep := range p.Services[name].DependsOn {
			if !selected[dep] {
				continue
			}
			d, err := depth(dep)
			if err != nil {
				return 0, err
			}
			l = max(l, d+1)
		}
		level[name] = l
		return l, nil
	}
	order := make([]string, 0, len(selected))
	for name := range selected {
		if _, err := depth(name); err != nil {
			return nil, err
		}
		order = append(order, name)
	}
	sort.Slice(order, func(i, j int) bool {
		if level[order[i]] != level[order[j]] {
			return level[order[i]] < level[order[j]]
		}
		return order[i] < order[j]
	})
	return order, nil
}

// ServiceNetworks returns the keys of the project networks s is attached to,
// by priority.
func ServiceNetworks(s types.ServiceConfig) []string {
	if s.NetworkMode != "" {
		return nil
	}
	return s.NetworksByPriority()
}

// ServiceVolumes returns the keys of the named project volumes s mounts.
func ServiceVolumes(p *types.Project, s types.ServiceConfig) []string {
	var out []string
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeVolume || v.Source == "" {
			continue
		}
		if _, ok := p.Volumes[v.Source]; ok {
			out = append(out, v.Source)
		}
	}
	return out
}

func diffNetworks(p *types.Project, order []string, obs *Observed) ([]*Action, error) {
	want := map[string]any{}
	for _, name := range order {
		for _, n := range ServiceNetworks(p.Services[name]) {
			if cfg, ok := p.Networks[n]; ok && !bool(cfg.External) {
				want[n] = cfg
			}
		}
	}
	return resourceActions("network", want, obs.Networks)
}

func diffVolumes(p *types.Project, order []string, obs *Observed) ([]*Action, error) {
	want := map[string]any{}
	for _, name := range order {
		for _, v := range ServiceVolumes(p, p.Services[name]) {
			if cfg := p.Volumes[v]; !bool(cfg.External) {
				want[v] = cfg
			}
		}
	}
	return resourceActions("volume", want, obs.Volumes)
}

// resourceActions creates the networks or volumes that do not exist and
// keeps the others, marking those whose definition changed since creation.
func resourceActions(typ string, want map[string]any, have []Resource) ([]*Action, error) {
	hashes := map[string]string{}
	for _, r := range have {
		hashes[r.Key] = r.Hash
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*Action, 0, len(keys))
	for _, k := range keys {
		a := &Action{Resource: typ + ":" + k, Kind: Unchanged}
		h, err := ResourceHash(want[k])
		if err != nil {
			return nil, err
		}
		a.ConfigHash = h
		old, exists := hashes[k]
		switch {
		case !exists:
			a.Kind, a.Reason = Create, "new "+typ
		case old != "" && old != h:
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

func diffService(p *types.Project, s types.ServiceConfig, imageID string, obs *Observed, selected map[string]bool, o DiffOptions) (*Action, error) {
	h, err := ConfigHash(s, imageID)
	if err != nil {
		return nil, err
	}
	a := &Action{
		Resource:    "service:" + s.Name,
		ConfigHash:  h.Sum,
		ConfigParts: h.PartsLabel(),
		Ready:       readiness(p, s, selected),
	}
	for _, n := range ServiceNetworks(s) {
		if cfg, ok := p.Networks[n]; ok && !bool(cfg.External) {
			a.WaitsFor = append(a.WaitsFor, "network:"+n)
		}
	}
	for _, v := range ServiceVolumes(p, s) {
		if !bool(p.Volumes[v].External) {
			a.WaitsFor = append(a.WaitsFor, "volume:"+v)
		}
	}
	deps := make([]string, 0, len(s.DependsOn))
	for dep := range s.DependsOn {
		if selected[dep] {
			deps = append(deps, dep)
		}
	}
	sort.Strings(deps)
	for _, dep := range deps {
		a.WaitsFor = append(a.WaitsFor, "service:"+dep)
		if !s.DependsOn[dep].Required {
			a.Optional = append(a.Optional, "service:"+dep)
		}
		if c := s.DependsOn[dep].Condition; c == "" || c == types.ServiceConditionStarted {
			a.AfterStart = append(a.AfterStart, "service:"+dep)
		}
	}

	have := obs.ServiceContainers(s.Name)
	want := s.GetScale()
	reasons := map[Kind][]string{} // why, by the kind of replica step
	count := map[Kind]int{}
	for i := range have {
		c := &have[i]
		r := Replica{Number: c.Number, Container: c}
		switch {
		case c.Number < 1 || c.Number > want:
			r.Kind = Remove
		case o.ForceRecreate:
			r.Kind = Recreate
			reasons[Recreate] = append(reasons[Recreate], "forced by --force-recreate")
		case c.Hash != h.Sum && !o.NoRecreate:
			r.Kind = Recreate
			reasons[Recreate] = append(reasons[Recreate], changedFields(c.Parts, h))
		case c.State == "dead":
			r.Kind = Recreate // a dead container cannot be started again
			reasons[Recreate] = append(reasons[Recreate], "container is dead")
		case c.Running() || (a.Ready == Completed && c.Completed()):
			r.Kind = Unchanged
		default:
			r.Kind = Start
			switch c.State {
			case "exited":
				reasons[Start] = append(reasons[Start], fmt.Sprintf("exited with code %d", c.ExitCode))
			case "paused":
				reasons[Start] = append(reasons[Start], "paused")
			default:
				reasons[Start] = append(reasons[Start], c.State+", not running")
			}
		}
		count[r.Kind]++
		a.Replicas = append(a.Replicas, r)
	}
	numbers := map[int]bool{}
	for _, c := range have {
		numbers[c.Number] = true
	}
	for n := 1; n <= want; n++ {
		if !numbers[n] {
			a.Replicas = append(a.Replicas, Replica{Number: n, Kind: Create})
			count[Create]++
		}
	}
	sort.SliceStable(a.Replicas, func(i, j int) bool { return a.Replicas[i].Number < a.Replicas[j].Number })

	running := len(have)
	scale := ""
	if running != want {
		scale = fmt.Sprintf("scale %d -> %d", running, want)
	}
	switch {
	case len(have) == 0 && want == 0:
		a.Kind, a.Reason = Unchanged, "scale 0"
	case len(have) == 0:
		a.Kind, a.Reason = Create, "new service"
	case count[Recreate] > 0:
		a.Kind, a.Reason = Recreate, joinReasons(reasons[Recreate][0], scale)
	case count[Create] > 0 || count[Remove] > 0:
		a.Kind, a.Reason = Scale, scale
	case count[Start] > 0:
		a.Kind, a.Reason = Start, reasons[Start][0]
	case a.Ready == Completed:
		a.Kind, a.Reason = Unchanged, "completed"
	default:
		a.Kind = Unchanged
	}
	return a, nil
}

func joinReasons(a, b string) string {
	if b == "" {
		return a
	}
	return a + "; " + b
}

// readiness says what finishing means for s: completed when a selected
// dependant waits for it with service_completed_successfully; healthy when it
// has a healthcheck or a dependant waits with service_healthy (the image may
// declare the healthcheck); else started.
func readiness(p *types.Project, s types.ServiceConfig, selected map[string]bool) Condition {
	healthy := s.HealthCheck != nil && !s.HealthCheck.Disable
	for name := range selected {
		d, ok := p.Services[name].DependsOn[s.Name]
		switch {
		case !ok:
		case d.Condition == types.ServiceConditionCompletedSuccessfully:
			return Completed
		case d.Condition == types.ServiceConditionHealthy:
			healthy = true
		}
	}
	if healthy {
		return Healthy
	}
	return Started
}

// propagateRestart turns an otherwise unchanged service into a restart when
// a dependency declared with `restart: true` is replaced or restarted.
func propagateRestart(plan *Plan, s types.ServiceConfig, a *Action, selected map[string]bool) {
	if a.Kind != Unchanged {
		return
	}
	deps := make([]string, 0, len(s.DependsOn))
	for dep, d := range s.DependsOn {
		if d.Restart && selected[dep] {
			deps = append(deps, dep)
		}
	}
	sort.Strings(deps)
	for _, dep := range deps {
		da := plan.Action("service:" + dep)
		if da == nil || (da.Kind != Recreate && da.Kind != Restart) {
			continue
		}
		a.Kind, a.Reason = Restart, fmt.Sprintf("dependency %s %s", dep, pastTense(da.Kind))
		for i := range a.Replicas {
			if a.Replicas[i].Kind == Unchanged {
				a.Replicas[i].Kind = Restart
			}
		}
		return
	}
}

func pastTense(k Kind) string {
	if k == Recreate {
		return "recreated"
	}
	return "restarted"
}

// diffOrphans lists the services that have containers but are gone from
// the manifest: removed with removeOrphans, otherwise left with a warning.
func diffOrphans(p *types.Project, obs *Observed, removeOrphans bool) []*Action {
	byService := map[string][]Container{}
	for _, c := range obs.Containers {
		if c.OneOff {
			continue
		}
		if _, ok := p.Services[c.Service]; ok {
			continue
		}
		if _, ok := p.DisabledServices[c.Service]; ok {
			continue
		}
		byService[c.Service] = append(byService[c.Service], c)
	}
	names := make([]string, 0, len(byService))
	for name := range byService {
		names = append(names, name)
	}
	sort.Strings(names)
	out := make([]*Action, 0, len(names))
	for _, name := range names {
		cs := byService[name]
		sortContainers(cs)
		a := &Action{Resource: "service:" + name, Orphan: true, Kind: Unchanged,
			Reason: "orphan: not in the manifest; --remove-orphans removes it"}
		if removeOrphans {
			a.Kind, a.Reason = Remove, "orphan: not in the manifest"
		}
		for i := range cs {
			a.Replicas = append(a.Replicas, Replica{Number: cs[i].Number, Kind: a.Kind, Container: &cs[i]})
		}
		out = append(out, a)
	}
	return out
}

package engine

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stack-deploy/stack/manifest"
)

func diffService(m *manifest.Project, s types.ServiceConfig, img Image, obs *Observed, selected map[string]bool, waits map[string]types.ServiceDependency, o DiffOptions) (*Action, error) {
	p := m.Project
	h, err := ServiceHash(p, s, img)
	if err != nil {
		return nil, err
	}
	update, err := updateOf(m, s)
	if err != nil {
		return nil, err
	}
	a := &Action{
		Resource:    "service:" + s.Name,
		ConfigHash:  h.Sum,
		ConfigParts: h.PartsLabel(),
		Ready:       readiness(s, img, waits),
		Update:      update,
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

	want := s.GetScale()
	networks := desiredNetworks(p, s)
	reasons := map[Kind][]string{} // why, by the kind of replica step
	count := map[Kind]int{}
	add := func(r Replica, why string) {
		count[r.Kind]++
		if why != "" {
			reasons[r.Kind] = append(reasons[r.Kind], why)
		}
		a.Replicas = append(a.Replicas, r)
	}
	byNumber := map[int][]*Container{}
	have := obs.ServiceContainers(s.Name)
	for i := range have {
		byNumber[have[i].Number] = append(byNumber[have[i].Number], &have[i])
	}
	numbers := make([]int, 0, len(byNumber))
	for n := range byNumber {
		numbers = append(numbers, n)
	}
	sort.Ints(numbers)
	leftovers := 0
	for _, n := range numbers {
		c, rest := primary(byNumber[n])
		for _, l := range rest {
			leftovers++
			add(Replica{Number: n, Kind: Remove, Container: l, Leftover: true}, "")
			reasons[Repair] = append(reasons[Repair], fmt.Sprintf("%s is left from an interrupted replacement", l.Name))
		}
		r := Replica{Number: n, Container: c}
		var why string
		switch {
		case n < 1 || n > want:
			r.Kind = Remove
		case o.ForceRecreate:
			r.Kind, why = Recreate, "forced by --force-recreate"
		case c.Compose && !o.NoRecreate:
			// Its labels are Compose's and cannot change: replaced by one
			// of stack's, as a changed configuration is.
			r.Kind, why = Recreate, "created by Docker Compose"
		case c.Hash != h.Sum && !o.NoRecreate:
			r.Kind, why = Recreate, changedFields(c.Parts, h)
		case c.State == "dead":
			r.Kind, why = Recreate, "container is dead" // it cannot be started again
		default:
			r.Connect, why = drift(c, networks)
			r.Rename = c.Temporary
			if r.Rename {
				why = joinReasons(why, fmt.Sprintf("%s takes the service's name", c.Name))
			}
			switch {
			case c.Running() || (a.Ready == Completed && c.Completed()):
				r.Kind = Unchanged
				if why != "" {
					r.Kind = Repair
				}
			default:
				r.Kind, why = Start, joinReasons(notRunning(c), why)
			}
		}
		add(r, why)
	}
	for n := 1; n <= want; n++ {
		if len(byNumber[n]) == 0 {
			add(Replica{Number: n, Kind: Create}, "")
		}
	}
	sort.SliceStable(a.Replicas, func(i, j int) bool { return a.Replicas[i].Number < a.Replicas[j].Number })

	running := len(numbers)
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
		if update.Order == StartFirst {
			a.Reason = joinReasons(a.Reason, StartFirst)
		}
	case count[Create] > 0 || count[Remove] > leftovers:
		a.Kind, a.Reason = Scale, scale
	case count[Start] > 0:
		a.Kind, a.Reason = Start, reasons[Start][0]
	case len(reasons[Repair]) > 0:
		a.Kind, a.Reason = Repair, reasons[Repair][0]
	case a.Ready == Completed:
		a.Kind, a.Reason = Unchanged, "completed"
	default:
		a.Kind = Unchanged
	}
	return a, nil
}

// ServiceHash is the hash up compares for s: the driver's (a Swarm
// spec's) when it made one, else ConfigHash.
func ServiceHash(p *types.Project, s types.ServiceConfig, img Image) (Hash, error) {
	if img.Hash != nil {
		return *img.Hash, nil
	}
	return ConfigHash(p, s, img.ID)
}

// primary picks, among the containers of one number, the one the service
// keeps: the one under its own name, else the newest under a temporary
// name; the others are leftovers of an interrupted replacement.
func primary(cs []*Container) (*Container, []*Container) {
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
	var rest []*Container
	for i, c := range cs {
		if i != keep {
			rest = append(rest, c)
		}
	}
	return cs[keep], rest
}

func notRunning(c *Container) string {
	switch c.State {
	case "exited":
		return fmt.Sprintf("exited with code %d", c.ExitCode)
	case "paused":
		return "paused"
	default:
		return c.State + ", not running"
	}
}

// desiredNetworks maps the engine name of each network s attaches to, to
// the aliases it must have there.
func desiredNetworks(p *types.Project, s types.ServiceConfig) map[string][]string {
	out := map[string][]string{}
	for _, key := range ServiceNetworks(s) {
		name := key
		if n, ok := p.Networks[key]; ok {
			name = n.Name
		}
		cfg := s.Networks[key]
		var aliases []string
		if cfg.ServiceNameAliasEnabled() {
			aliases = append(aliases, s.Name)
		}
		if cfg != nil {
			aliases = append(aliases, cfg.Aliases...)
		}
		out[name] = aliases
	}
	return out
}

// drift lists the desired networks a container is not attached to, or
// lacks an alias on, with the reason; nothing when the driver does not
// observe networks.
func drift(c *Container, want map[string][]string) ([]string, string) {
	if c.Networks == nil {
		return nil, ""
	}
	var connect, why []string
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ep, ok := c.Networks[n]
		if !ok {
			connect = append(connect, n)
			why = append(why, "not connected to network "+n)
			continue
		}
		if ep.Aliases == nil {
			continue
		}
		for _, alias := range want[n] {
			if !slices.Contains(ep.Aliases, alias) {
				connect = append(connect, n)
				why = append(why, fmt.Sprintf("alias %q missing on network %s", alias, n))
				break
			}
		}
	}
	return connect, strings.Join(why, ", ")
}

// readiness says what finishing means for s: completed when a selected
// dependant waits for it with service_completed_successfully; healthy when
// it or its image has a healthcheck, or a dependant waits with
// service_healthy; else started. waits is waitedFor's.
func readiness(s types.ServiceConfig, img Image, waits map[string]types.ServiceDependency) Condition {
	switch w := waits[s.Name]; {
	case w.Condition == types.ServiceConditionCompletedSuccessfully:
		return Completed
	case w.Condition == types.ServiceConditionHealthy || hasHealthcheck(s, img):
		return Healthy
	}
	return Started
}

// waitedFor maps each service to the strongest condition a selected
// dependant waits for it with (completed, then healthy), in one pass over
// the dependencies.
func waitedFor(p *types.Project, selected map[string]bool) map[string]types.ServiceDependency {
	rank := map[string]int{types.ServiceConditionHealthy: 1, types.ServiceConditionCompletedSuccessfully: 2}
	waits := map[string]types.ServiceDependency{}
	for name, s := range p.Services {
		if !selected[name] {
			continue
		}
		for dep, d := range s.DependsOn {
			if rank[d.Condition] > rank[waits[dep].Condition] {
				waits[dep] = d
			}
		}
	}
	return waits
}

// hasHealthcheck reports whether containers of s run a healthcheck: its
// own, else its image's unless disabled.
func hasHealthcheck(s types.ServiceConfig, img Image) bool {
	if hc := s.HealthCheck; hc != nil {
		if hc.Disable || (len(hc.Test) > 0 && hc.Test[0] == "NONE") {
			return false
		}
		if len(hc.Test) > 0 {
			return true
		}
	}
	return img.Healthcheck
}

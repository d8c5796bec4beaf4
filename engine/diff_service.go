package engine

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stack-deploy/stack/manifest"
)

// diffService plans one service: what it should be (its hash, readiness,
// update strategy and what it waits for), a step for each replica the
// engine has or lacks, and from those steps the service's action and why.
func diffService(m *manifest.Project, s types.ServiceConfig, img Image, obs *Observed, selected map[string]bool, waits map[string]types.ServiceDependency, o DiffOptions) (*Action, error) {
	a, h, err := desiredService(m, s, img, waits)
	if err != nil {
		return nil, err
	}
	a.WaitsFor, a.Optional, a.AfterStart = serviceWaits(m.Project, s, selected)
	st := &replicaSteps{a: a, reasons: map[Kind][]string{}, count: map[Kind]int{}}
	have := obs.ServiceContainers(s.Name)
	st.observed(have, h, desiredNetworks(m.Project, s), s.GetScale(), o)
	a.Kind, a.Reason = st.decide(len(have), s.GetScale())
	return a, nil
}

// desiredService is the action on s as far as the manifest alone says:
// its hash, readiness and update strategy.
func desiredService(m *manifest.Project, s types.ServiceConfig, img Image, waits map[string]types.ServiceDependency) (*Action, Hash, error) {
	h, err := ServiceHash(m.Project, s, img)
	if err != nil {
		return nil, h, err
	}
	update, err := updateOf(m, s)
	if err != nil {
		return nil, h, err
	}
	return &Action{
		Resource:    "service:" + s.Name,
		ConfigHash:  h.Sum,
		ConfigParts: h.PartsLabel(),
		Ready:       readiness(s, img, waits),
		Update:      update,
	}, h, nil
}

// serviceWaits lists what s waits for: its networks and volumes, and the
// selected services it depends on, those not required (optional) and
// those it needs started only (afterStart).
func serviceWaits(p *types.Project, s types.ServiceConfig, selected map[string]bool) (waits, optional, afterStart []string) {
	for _, n := range ServiceNetworks(s) {
		if cfg, ok := p.Networks[n]; ok && !bool(cfg.External) {
			waits = append(waits, "network:"+n)
		}
	}
	for _, v := range ServiceVolumes(p, s) {
		if !bool(p.Volumes[v].External) {
			waits = append(waits, "volume:"+v)
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
		waits = append(waits, "service:"+dep)
		if !s.DependsOn[dep].Required {
			optional = append(optional, "service:"+dep)
		}
		if c := s.DependsOn[dep].Condition; c == "" || c == types.ServiceConditionStarted {
			afterStart = append(afterStart, "service:"+dep)
		}
	}
	return waits, optional, afterStart
}

// replicaSteps are the per-replica steps of one service's action, with
// why, by the kind of step.
type replicaSteps struct {
	a         *Action
	reasons   map[Kind][]string
	count     map[Kind]int
	leftovers int
	numbers   int // replica numbers observed
}

func (st *replicaSteps) add(r Replica, why string) {
	st.count[r.Kind]++
	if why != "" {
		st.reasons[r.Kind] = append(st.reasons[r.Kind], why)
	}
	st.a.Replicas = append(st.a.Replicas, r)
}

// observed adds a step for each replica number of the containers have
// (leftovers of an interrupted replacement removed) and a create for each
// number up to want that has none.
func (st *replicaSteps) observed(have []Container, h Hash, networks map[string][]string, want int, o DiffOptions) {
	byNumber := map[int][]*Container{}
	for i := range have {
		byNumber[have[i].Number] = append(byNumber[have[i].Number], &have[i])
	}
	numbers := make([]int, 0, len(byNumber))
	for n := range byNumber {
		numbers = append(numbers, n)
	}
	sort.Ints(numbers)
	st.numbers = len(numbers)
	for _, n := range numbers {
		c, rest := primary(byNumber[n])
		for _, l := range rest {
			st.leftovers++
			st.add(Replica{Number: n, Kind: Remove, Container: l, Leftover: true}, "")
			st.reasons[Repair] = append(st.reasons[Repair], fmt.Sprintf("%s is left from an interrupted replacement", l.Name))
		}
		r, why := st.replica(n, c, h, networks, want, o)
		st.add(r, why)
	}
	for n := 1; n <= want; n++ {
		if len(byNumber[n]) == 0 {
			st.add(Replica{Number: n, Kind: Create}, "")
		}
	}
	sort.SliceStable(st.a.Replicas, func(i, j int) bool { return st.a.Replicas[i].Number < st.a.Replicas[j].Number })
}

// replica is the step for the container c kept for number n, and why.
func (st *replicaSteps) replica(n int, c *Container, h Hash, networks map[string][]string, want int, o DiffOptions) (Replica, string) {
	r := Replica{Number: n, Container: c}
	switch {
	case n < 1 || n > want:
		r.Kind = Remove
		return r, ""
	case o.ForceRecreate:
		r.Kind = Recreate
		return r, "forced by --force-recreate"
	case c.Compose && !o.NoRecreate:
		// Its labels are Compose's and cannot change: replaced by one of
		// stack's, as a changed configuration is.
		r.Kind = Recreate
		return r, "created by Docker Compose"
	case c.Hash != h.Sum && !o.NoRecreate:
		r.Kind = Recreate
		return r, changedFields(c.Parts, h)
	case c.State == "dead":
		r.Kind = Recreate
		return r, "container is dead" // it cannot be started again
	}
	var why string
	r.Connect, why = drift(c, networks)
	r.Rename = c.Temporary
	if r.Rename {
		why = joinReasons(why, fmt.Sprintf("%s takes the service's name", c.Name))
	}
	switch {
	case c.Running() || (st.a.Ready == Completed && c.Completed()):
		r.Kind = Unchanged
		if why != "" {
			r.Kind = Repair
		}
	default:
		r.Kind, why = Start, joinReasons(notRunning(c), why)
	}
	return r, why
}

// decide is the service's action from its replicas' steps, and why.
func (st *replicaSteps) decide(have, want int) (Kind, string) {
	scale := ""
	if st.numbers != want {
		scale = fmt.Sprintf("scale %d -> %d", st.numbers, want)
	}
	switch {
	case have == 0 && want == 0:
		return Unchanged, "scale 0"
	case have == 0:
		return Create, "new service"
	case st.count[Recreate] > 0:
		reason := joinReasons(st.reasons[Recreate][0], scale)
		if st.a.Update != nil && st.a.Update.Order == StartFirst {
			reason = joinReasons(reason, StartFirst)
		}
		return Recreate, reason
	case st.count[Create] > 0 || st.count[Remove] > st.leftovers:
		return Scale, scale
	case st.count[Start] > 0:
		return Start, st.reasons[Start][0]
	case len(st.reasons[Repair]) > 0:
		return Repair, st.reasons[Repair][0]
	case st.a.Ready == Completed:
		return Unchanged, "completed"
	}
	return Unchanged, ""
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

package engine

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stack-deploy/stack/manifest"
)

// diffService plans one service: what it should be (its hash, readiness,
// update strategy and what it waits for), and from what the engine holds
// of it the service's action and why. Which replicas the action touches
// is the driver's to work out, in its Operations.
func diffService(m *manifest.Project, s types.ServiceConfig, img Image, obs *Observed, selected map[string]bool, waits map[string]types.ServiceDependency, o DiffOptions) (*Action, error) {
	a, h, err := desiredService(m, s, img, waits)
	if err != nil {
		return nil, err
	}
	a.WaitsFor, a.Optional, a.AfterStart = serviceWaits(m.Project, s, selected)
	a.Recreate, a.RenewAnonymous = recreatePolicy(s.Name, o), o.RenewAnonymous
	st := obs.Service(s.Name)
	if st == nil {
		st = &ServiceState{Name: s.Name}
	}
	a.Kind, a.Reason = decide(a, st, h, s.GetScale())
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

// recreatePolicy is the policy for service's replicas: the named
// services' (all, when none is named) is --force-recreate's, that of the
// dependencies converged with them --always-recreate-deps'; --no-recreate
// is every service's.
func recreatePolicy(service string, o DiffOptions) RecreatePolicy {
	named := len(o.Services) == 0 || slices.Contains(o.Services, service)
	switch {
	case o.NoRecreate:
		return RecreateNever
	case named && o.ForceRecreate, !named && o.RecreateDeps:
		return RecreateForce
	}
	return RecreateDiverged
}

// decide is the action on a service from what the engine holds of it
// (st), its desired hash h and replica count want, and why.
func decide(a *Action, st *ServiceState, h Hash, want int) (Kind, string) {
	scale := ""
	if st.Replicas != want {
		scale = fmt.Sprintf("scale %d -> %d", st.Replicas, want)
	}
	if st.Replicas == 0 {
		if want == 0 {
			return Unchanged, "scale 0"
		}
		return Create, "new service"
	}
	if want > 0 {
		if why := recreation(a, st, h); why != "" {
			why = joinReasons(why, scale)
			if a.Update != nil && a.Update.Order == StartFirst {
				why = joinReasons(why, StartFirst)
			}
			return Recreate, why
		}
	}
	stopped := st.Replicas - st.Running
	if a.Ready == Completed {
		stopped -= st.Completed
	}
	switch {
	case scale != "":
		return Scale, joinReasons(scale, st.Drift)
	case stopped > 0:
		return Start, cmp.Or(st.Stopped, "not running")
	case st.Drift != "":
		return Repair, st.Drift
	case a.Ready == Completed:
		return Unchanged, "completed"
	}
	return Unchanged, ""
}

// recreation says why the replicas of a service are replaced, empty when
// they are not: forced, made by another tool, made from another
// configuration, or broken.
func recreation(a *Action, st *ServiceState, h Hash) string {
	switch {
	case a.Recreate == RecreateForce:
		return "forced by --force-recreate"
	case st.Foreign != "" && a.Recreate != RecreateNever:
		// Its labels are another tool's and cannot change: replaced by
		// one of stack's, as a changed configuration is.
		return st.Foreign
	case a.Recreate != RecreateNever:
		for _, v := range st.Versions {
			if v.Hash != h.Sum {
				return changedFields(v.Parts, h)
			}
		}
	}
	return st.Broken // it cannot be started again
}

// ServiceHash is the hash up compares for s: the driver's (a Swarm
// spec's) when it made one, else ConfigHash.
func ServiceHash(p *types.Project, s types.ServiceConfig, img Image) (Hash, error) {
	if img.Hash != nil {
		return *img.Hash, nil
	}
	return ConfigHash(p, s, img.ID)
}

// DesiredNetworks maps the engine name of each network s attaches to, to
// the aliases it must have there: what a driver's Observe compares a
// replica's networks with (NetworkDrift).
func DesiredNetworks(p *types.Project, s types.ServiceConfig) map[string][]string {
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

// NetworkDrift lists the desired networks (DesiredNetworks) a replica
// attached to have is not attached to, or lacks an alias on, with the
// reason; nothing when have is nil (not observed).
func NetworkDrift(have map[string]Endpoint, want map[string][]string) ([]string, string) {
	if have == nil {
		return nil, ""
	}
	var connect, why []string
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ep, ok := have[n]
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

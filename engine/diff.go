package engine

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stack-deploy/stack/internal/dag"
	"github.com/stack-deploy/stack/manifest"
)

// DiffOptions narrow and steer a Diff, with the meaning of `stack up`'s flags.
type DiffOptions struct {
	// Services limits the plan to these services and, unless NoDeps, their
	// dependencies; empty: every service.
	Services []string
	NoDeps   bool
	// ForceRecreate replaces the named services' replicas (every
	// service's when none is named) although current; RecreateDeps those
	// of the dependencies the run converges with them; NoRecreate keeps
	// every replica whose configuration changed. As Compose's
	// --force-recreate, --always-recreate-deps and --no-recreate.
	ForceRecreate bool
	RecreateDeps  bool
	NoRecreate    bool
	// RenewAnonymous gives recreated replicas new anonymous volumes
	// instead of those of the replicas they replace (-V), which stay on
	// the engine.
	RenewAnonymous bool
	RemoveOrphans  bool
	// Atomic makes the run all or nothing (Plan.Atomic).
	Atomic bool
	// Leave are selected services whose containers stay as they are: `stack
	// run` converges a service's dependencies, networks and volumes for a
	// one-off container, not the service itself.
	Leave []string
}

// Image is what the plan knows of a service's image: its ID (empty when it
// is not on the engine yet, as for `stack plan` before a build) and whether
// it declares a HEALTHCHECK.
type Image struct {
	ID          string
	Healthcheck bool
	// Hash, when set, is the service's config hash as its driver makes it
	// (see Hasher), compared with the observed one instead of ConfigHash.
	Hash *Hash
}

// Images are the services' images, by service.
type Images map[string]Image

// IDs returns the image IDs by service.
func (im Images) IDs() map[string]string {
	out := make(map[string]string, len(im))
	for k, v := range im {
		out[k] = v.ID
	}
	return out
}

// WithHashes returns a copy of im with each service's Hash set to its
// entry in hashes (a Hasher's ConfigHashes).
func (im Images) WithHashes(hashes map[string]Hash) Images {
	out := maps.Clone(im)
	if out == nil {
		out = Images{}
	}
	for name, h := range hashes {
		img := out[name]
		img.Hash = &h
		out[name] = img
	}
	return out
}

// Diff compares the desired project (its images: missing ones hash as
// unknown) with what was observed and returns the Plan that converges one
// to the other. It is pure: no engine, no clock, no randomness; the only
// input beyond its arguments is the files that secrets and configs name,
// hashed (ConfigHash).
func Diff(m *manifest.Project, images Images, obs *Observed, o DiffOptions) (*Plan, error) {
	if obs == nil {
		obs = &Observed{}
	}
	p := m.Project
	order, err := SelectServices(m, o.Services, o.NoDeps)
	if err != nil {
		return nil, err
	}
	plan := &Plan{Project: p.Name, Desired: m, Images: images.IDs(), Observed: obs, Atomic: o.Atomic}
	if err := checkHealthyDependencies(m, order, images); err != nil {
		return nil, err
	}
	if plan.Gateway, _, err = DesiredGateway(m); err != nil {
		return nil, err
	}
	gateway, err := diffGateway(m, plan.Gateway, obs)
	if err != nil {
		return nil, err
	}
	networks, err := diffNetworks(p, order, gateway, obs)
	if err != nil {
		return nil, err
	}
	volumes, err := diffVolumes(p, order, obs)
	if err != nil {
		return nil, err
	}
	plan.Actions = append(plan.Actions, networks...)
	plan.Actions = append(plan.Actions, volumes...)
	if gateway != nil {
		plan.Actions = append(plan.Actions, gateway)
	}

	selected := map[string]bool{}
	for _, name := range order {
		selected[name] = true
	}
	waits := waitedFor(p, selected)
	for _, name := range order {
		if slices.Contains(o.Leave, name) {
			continue
		}
		a, err := diffService(m, p.Services[name], images[name], obs, selected, waits, o)
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
	order := make([]string, 0, len(selected))
	for name := range selected {
		order = append(order, name)
	}
	sort.Strings(order)
	deps := func(name string) []string {
		var out []string
		for dep := range p.Services[name].DependsOn {
			if selected[dep] {
				out = append(out, dep)
			}
		}
		sort.Strings(out)
		return out
	}
	if c := dag.Cycle(order, deps); c != nil { // Load refuses them: a model built otherwise
		return nil, fmt.Errorf("services %s: %w in depends_on", dag.Path(c), ErrCycle)
	}
	level := map[string]int{}
	var depth func(string) int
	depth = func(name string) int {
		if l, ok := level[name]; ok {
			return l
		}
		l := 0
		for _, dep := range deps(name) {
			l = max(l, depth(dep)+1)
		}
		level[name] = l
		return l
	}
	for _, name := range order {
		depth(name)
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

// checkHealthyDependencies refuses, before anything changes, a dependant
// that waits for a service to be healthy when neither that service nor its
// image has a healthcheck: it would wait for ever. An image not on the
// engine yet (plan before a build) cannot say, and is not refused.
func checkHealthyDependencies(m *manifest.Project, order []string, images Images) error {
	var errs []error
	for _, name := range order {
		s := m.Project.Services[name]
		deps := make([]string, 0, len(s.DependsOn))
		for dep := range s.DependsOn {
			deps = append(deps, dep)
		}
		sort.Strings(deps)
		for _, dep := range deps {
			ds, ok := m.Project.Services[dep]
			if !ok || s.DependsOn[dep].Condition != types.ServiceConditionHealthy || hasHealthcheck(ds, images[dep]) {
				continue
			}
			if images[dep].ID == "" && (ds.HealthCheck == nil || !ds.HealthCheck.Disable) {
				continue
			}
			e := m.ErrorAt(name, "depends_on."+dep)
			e.Problem = fmt.Sprintf("condition service_healthy, but service %q has no healthcheck, neither in the compose file nor in its image", dep)
			e.Fix = fmt.Sprintf("add a healthcheck to service %q, or use condition: service_started", dep)
			e.Err = ErrNoHealthcheck
			errs = append(errs, e)
		}
	}
	return errors.Join(errs...)
}

func joinReasons(a, b string) string {
	if b == "" {
		return a
	}
	return a + "; " + b
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
		return
	}
}

func pastTense(k Kind) string {
	if k == Recreate {
		return "recreated"
	}
	return "restarted"
}

// inProject reports whether service name is p's: in its manifest, its
// profile on or off for this run.
func inProject(p *types.Project, name string) bool {
	_, on := p.Services[name]
	_, off := p.DisabledServices[name]
	return on || off
}

// diffOrphans lists the services the engine has that are gone from the
// manifest: removed with removeOrphans, otherwise left with a warning.
func diffOrphans(p *types.Project, obs *Observed, removeOrphans bool) []*Action {
	seen := map[string]bool{}
	var names []string
	for _, s := range obs.Services {
		if s.OneOff || seen[s.Name] {
			continue
		}
		if inProject(p, s.Name) {
			continue
		}
		seen[s.Name] = true
		names = append(names, s.Name)
	}
	sort.Strings(names)
	out := make([]*Action, 0, len(names))
	for _, name := range names {
		a := &Action{Resource: "service:" + name, Orphan: true, Kind: Unchanged,
			Reason: "orphan: not in the manifest; --remove-orphans removes it"}
		if removeOrphans {
			a.Kind, a.Reason = Remove, "orphan: not in the manifest"
		}
		out = append(out, a)
	}
	return out
}

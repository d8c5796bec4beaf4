package swarm

import (
	"fmt"
	"slices"
	"strings"

	"github.com/stack-deploy/stack/engine"
)

// removed is what a wait after a service's removal waits for: its tasks
// gone, so that its networks can go and a dependency can stop after it.
const removed engine.Condition = "removed"

// The payloads of the operations this driver plans; the executor makes the
// call each one names.
type (
	// createNetwork creates the mapped network.
	createNetwork struct{ net Network }
	// removeNetwork removes one observed network; a removed service's
	// tasks may hold it a while.
	removeNetwork struct{ r engine.Resource }
	// removeVolume removes a volume from the manager's node and says where
	// else it lives.
	removeVolume struct{ name string }
	// object is a secret or config by its (content-hashed) name; id is set
	// when it exists.
	createObject struct {
		kind   string
		object Object
	}
	removeObject struct{ kind, id, name string }
	// createService creates the mapped service; spec's object references
	// get the IDs the run's createObject calls were given.
	createService struct {
		service string
		spec    Service
	}
	// updateService sends the desired spec to the service as observed;
	// force restarts its tasks even when nothing else changed. restart
	// sends the manager's own spec back instead, its tasks restarted (stack
	// restart, a dependency's restart: true, a job run again, a paused
	// update resumed): what runs, not what the manifest says now.
	updateService struct {
		service        string
		spec           Service // the desired one; unused with restart
		current        ObservedService
		force, restart bool
	}
	removeService struct {
		service string
		current ObservedService
	}
	// waitService waits until service's tasks are as cond says, for the
	// spec whose hash is hash (an update's rollback restores another).
	waitService struct {
		service, name string
		cond          engine.Condition
		hash          string
		update        bool
	}
)

// actionOps are one action's operations as other actions see them: gates
// are its first calls, which what the action waits for must precede; done
// are the operations after which it is finished (a service converged). A
// Swarm service starts when it is created, so its started and done points
// are one.
type actionOps struct {
	gates []*engine.Op
	done  []string
}

// Operations turns plan into the manager's calls: per service one create,
// update (a rolling update under its update_config, or a scale) or remove,
// each followed by a wait until the service converged, with the secrets and
// configs it mounts created first and those nothing mounts any more removed
// after; per network a create or remove. Dependants' calls wait for their
// dependencies' waits: a service is created or updated only once what it
// depends on runs (healthy where it has a healthcheck) or completed. A
// failed update is Swarm's to roll back, so nothing here is a transaction.
// Volumes need no call to exist: each node makes them. It is pure.
func (d *Driver) Operations(plan *engine.Plan) (*engine.Graph, error) {
	b := &builder{g: &engine.Graph{}, plan: plan, points: map[string]*actionOps{}, objects: map[string]*engine.Op{}}
	if o, ok := plan.Observed.Driver.(*Observed); ok {
		b.obs = o
	} else {
		b.obs = &Observed{}
	}
	b.services = map[string]ObservedService{}
	for _, s := range b.obs.Services {
		if !s.OneOff {
			b.services[s.Service] = s
		}
	}
	if converging(plan) || createsNetwork(plan) {
		d.mu.Lock()
		version := d.apiVersion
		d.mu.Unlock()
		desired, err := Map(plan.Desired.Project, Options{Images: placeholders(plan.Desired, nil), APIVersion: version})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", strings.Join(plan.Desired.ComposeFiles, ", "), err)
		}
		b.desired = desired
	}
	for _, a := range plan.Actions {
		ao, err := b.action(a)
		if err != nil {
			return nil, err
		}
		b.points[a.Resource] = ao
	}
	b.obsolete()
	b.link()
	if err := b.g.Check(); err != nil {
		return nil, fmt.Errorf("planning the manager's calls: %w", err)
	}
	return b.g, nil
}

// converging reports whether plan keeps or makes any service: a plan that
// only removes (down) needs no desired specs, and must work when the
// manifest's secret files are gone.
func converging(plan *engine.Plan) bool {
	for _, a := range plan.Actions {
		if a.Type() == "service" && a.Kind != engine.Remove && !a.Orphan {
			return true
		}
	}
	return false
}

type builder struct {
	g        *engine.Graph
	plan     *engine.Plan
	obs      *Observed
	services map[string]ObservedService // by compose service
	desired  *Desired                   // nil for a plan that only removes
	points   map[string]*actionOps
	objects  map[string]*engine.Op // created secrets and configs, by kind:name
}

func (b *builder) op(a *engine.Action, kind engine.OpKind, target string, payload any, needs ...string) *engine.Op {
	op := &engine.Op{Kind: kind, Target: target, Action: a.Resource, Payload: payload, Needs: needs}
	b.g.Add(op)
	return op
}

func (b *builder) action(a *engine.Action) (*actionOps, error) {
	ao := &actionOps{}
	switch a.Type() {
	case "network":
		b.network(a, ao)
	case "volume":
		if a.Kind == engine.Remove {
			for _, r := range a.Resources {
				op := b.op(a, engine.OpRemove, "volume:"+r.Name, &removeVolume{name: r.Name})
				ao.gates, ao.done = append(ao.gates, op), append(ao.done, op.ID)
			}
		}
	case "image":
		if a.Kind == engine.Remove {
			return nil, fmt.Errorf("stack down --rmi: %w by the swarm orchestrator: the images are on the nodes, which a manager cannot remove them from; run down without --rmi, and docker image prune on each node", engine.ErrUnsupported)
		}
	case "service":
		return ao, b.service(a, ao)
	}
	return ao, nil
}

func (b *builder) network(a *engine.Action, ao *actionOps) {
	switch a.Kind {
	case engine.Create:
		op := b.op(a, engine.OpCreate, "network:"+b.plan.Desired.Project.Networks[a.Name()].Name, &createNetwork{net: b.desired.network(a.Name())})
		ao.gates, ao.done = append(ao.gates, op), append(ao.done, op.ID)
	case engine.Remove, engine.Repair:
		for _, r := range a.Resources {
			op := b.op(a, engine.OpRemove, "network:"+r.Name+"@"+shortID(r.ID), &removeNetwork{r: r})
			ao.gates, ao.done = append(ao.gates, op), append(ao.done, op.ID)
		}
	}
}

// service plans a service action: its call, the objects the call needs,
// and the wait after it.
func (b *builder) service(a *engine.Action, ao *actionOps) error {
	svc := a.Name()
	cur, exists := b.services[svc]
	name := ServiceName(b.plan.Project, svc)
	target := "service:" + name
	var first *engine.Op
	wait := &waitService{service: svc, name: name, cond: a.Ready}
	switch a.Kind {
	case engine.Unchanged, engine.Repair:
		switch {
		case a.Orphan:
			return nil
		case a.Kind == engine.Repair && exists:
			// A network or alias lost behind stack's back: the spec, sent
			// again, puts it back.
			first = b.op(a, engine.OpUpdate, target, &updateService{service: svc, spec: b.desired.service(svc), current: cur}, b.objectsOf(a, svc)...)
			first.Detail, wait.update = "networks and aliases as the manifest says", true
		case !exists || cur.Converged():
			return nil
		}
		wait.hash = cur.Hash
	case engine.Start, engine.Restart:
		if !exists {
			return nil
		}
		// What runs, run again: the manager's own spec, its tasks restarted.
		first = b.op(a, engine.OpUpdate, target, &updateService{service: svc, current: cur, restart: true})
		first.Detail, wait.update, wait.hash = updateDetail(a.Kind, Service{}), true, cur.Hash
	case engine.Create, engine.Recreate, engine.Scale:
		desired := b.desired.service(svc)
		needs := b.objectsOf(a, svc)
		wait.hash = desired.Hash.Sum
		switch {
		case !exists:
			first = b.op(a, engine.OpCreate, target, &createService{service: svc, spec: desired}, needs...)
		case cur.Mode != modeName(desired):
			// Swarm cannot change a service's mode: replace it.
			first = b.op(a, engine.OpRemove, target, &removeService{service: svc, current: cur})
			first.Detail = fmt.Sprintf("%s becomes %s: Swarm replaces it", cur.Mode, modeName(desired))
			gone := b.wait(a, target, &waitService{service: svc, name: name, cond: removed}, first.ID)
			create := b.op(a, engine.OpCreate, target, &createService{service: svc, spec: desired}, append(needs, gone.ID)...)
			ao.gates = append(ao.gates, first)
			ao.done = append(ao.done, b.wait(a, target, wait, create.ID).ID)
			return nil
		default:
			// The same spec again is a replacement forced (--force-recreate):
			// Swarm would change nothing unless its tasks are restarted.
			force := a.Kind == engine.Recreate && cur.Hash == desired.Hash.Sum
			first = b.op(a, engine.OpUpdate, target, &updateService{service: svc, spec: desired, current: cur, force: force}, needs...)
			first.Detail, wait.update = updateDetail(a.Kind, desired), true
		}
	case engine.Remove:
		b.removal(a, ao)
		return nil
	case engine.Stop:
		return fmt.Errorf("stack stop: %w by the swarm orchestrator: a Swarm service has no stopped state; set deploy.replicas: 0 and run stack up, or remove it with stack down", engine.ErrUnsupported)
	default:
		return fmt.Errorf("service %s: the Swarm driver has no calls for %s", svc, a.Kind)
	}
	var needs []string
	if first != nil {
		ao.gates = append(ao.gates, first)
		needs = []string{first.ID}
	}
	w := b.wait(a, target, wait, needs...)
	if first == nil {
		ao.gates = append(ao.gates, w) // nothing to call: the wait itself waits for what the action waits for
	}
	ao.done = append(ao.done, w.ID)
	return nil
}

// removal plans removing the Swarm services a removal action stands for
// (a service, or the one-off jobs of one), each followed by a wait until
// it is gone.
func (b *builder) removal(a *engine.Action, ao *actionOps) {
	for _, s := range b.obs.Services {
		if s.Service != a.Service() || s.OneOff != a.OneOff {
			continue
		}
		cur := ObservedService{ID: s.ID, Name: s.Name}
		target := "service:" + s.Name
		rm := b.op(a, engine.OpRemove, target, &removeService{service: s.Service, current: cur})
		w := b.wait(a, target, &waitService{service: s.Service, name: s.Name, cond: removed}, rm.ID)
		ao.gates, ao.done = append(ao.gates, rm), append(ao.done, w.ID)
	}
}

func (b *builder) wait(a *engine.Action, target string, w *waitService, needs ...string) *engine.Op {
	op := b.op(a, engine.OpWait, target, w, needs...)
	if w.cond == "" {
		w.cond = engine.Started
	}
	op.Condition, op.Detail = w.cond, "until "+string(w.cond)
	if w.cond == removed {
		op.ID = "wait " + target + " removed"
	}
	return op
}

// updateDetail says what an update does, for people.
func updateDetail(k engine.Kind, s Service) string {
	switch k {
	case engine.Scale:
		return "scale"
	case engine.Start, engine.Restart:
		return "restart its tasks"
	}
	if s.Job {
		return "run the job again"
	}
	order := "stop-first"
	if u := s.Spec.UpdateConfig; u != nil && u.Order != "" {
		order = u.Order
	}
	parallel := uint64(1)
	if u := s.Spec.UpdateConfig; u != nil {
		parallel = u.Parallelism
	}
	return fmt.Sprintf("rolling update, %d at a time, %s", parallel, order)
}

// objectsOf plans creating the secrets and configs service mounts that the
// manager does not have (once, by the first action needing each), and
// returns the operations its call needs.
func (b *builder) objectsOf(a *engine.Action, service string) []string {
	s := b.desired.service(service)
	var needs []string
	add := func(kind, name string, have []ObservedObject, desired []Object) {
		if slices.ContainsFunc(have, func(o ObservedObject) bool { return o.Name == name }) {
			return
		}
		key := kind + ":" + name
		op, ok := b.objects[key]
		if !ok {
			object := Object{Name: name} // not mapped: the call says so
			if i := slices.IndexFunc(desired, func(o Object) bool { return o.Name == name }); i >= 0 {
				object = desired[i]
			}
			op = b.op(a, engine.OpCreate, key, &createObject{kind: kind, object: object})
			b.objects[key] = op
		}
		needs = append(needs, op.ID)
	}
	for _, r := range s.Spec.TaskTemplate.ContainerSpec.Secrets {
		add("secret", r.SecretName, b.obs.Secrets, b.desired.Secrets)
	}
	for _, r := range s.Spec.TaskTemplate.ContainerSpec.Configs {
		add("config", r.ConfigName, b.obs.Configs, b.desired.Configs)
	}
	return needs
}

// obsolete plans removing the project's secrets and configs that no
// desired spec mounts, once every service whose spec mounts them now has
// been updated or removed; those no service mounts (left by a run that was
// interrupted) go with a plan that removes every service (down).
func (b *builder) obsolete() {
	inUse := map[string]bool{}
	if b.desired != nil {
		for _, s := range b.desired.Services {
			for _, r := range s.Spec.TaskTemplate.ContainerSpec.Secrets {
				inUse["secret:"+r.SecretName] = true
			}
			for _, r := range s.Spec.TaskTemplate.ContainerSpec.Configs {
				inUse["config:"+r.ConfigName] = true
			}
		}
	}
	removing := slices.ContainsFunc(b.plan.Actions, func(a *engine.Action) bool { return a.Type() == "service" && a.Kind == engine.Remove })
	remove := func(kind string, o ObservedObject, mountedBy func(ObservedService) []string) {
		if inUse[kind+":"+o.Name] {
			return
		}
		var needs []string
		mounted := false
		for _, s := range b.obs.Services {
			if !slices.Contains(mountedBy(s), o.Name) {
				continue
			}
			a := b.plan.Action("service:" + s.Service)
			ao := b.points["service:"+s.Service]
			if a == nil || ao == nil || len(ao.gates) == 0 || ao.gates[0].Kind == engine.OpWait {
				return // still mounted by a service this plan leaves as it is
			}
			mounted = true
			needs = append(needs, ao.done...)
		}
		if !mounted {
			if b.desired != nil || !removing {
				return
			}
			for _, a := range b.plan.Actions {
				if ao := b.points[a.Resource]; a.Type() == "service" && ao != nil {
					needs = append(needs, ao.done...)
				}
			}
		}
		a := b.objectAction(kind, o)
		b.op(a, engine.OpRemove, kind+":"+o.Name, &removeObject{kind: kind, id: o.ID, name: o.Name}, needs...)
	}
	for _, o := range b.obs.Secrets {
		remove("secret", o, func(s ObservedService) []string { return s.Secrets })
	}
	for _, o := range b.obs.Configs {
		remove("config", o, func(s ObservedService) []string { return s.Configs })
	}
}

// objectAction is the plan action removing a secret's or config's version
// that no service mounts once the plan is carried out: one the plan shows,
// with why (a Swarm object cannot change, so a new version of its content
// is a new object and the old one goes once nothing mounts it).
func (b *builder) objectAction(kind string, o ObservedObject) *engine.Action {
	reason := "no service mounts it any more"
	switch {
	case b.desired == nil:
		reason = "the services that mount it are removed"
	case b.desired.mounts(kind, o.Key):
		reason = "an older version of " + o.Key + ": the services mount the new one"
	}
	a := &engine.Action{Resource: kind + ":" + o.Name, Kind: engine.Remove, Reason: reason}
	b.plan.Actions = append(b.plan.Actions, a)
	return a
}

// mounts reports whether the desired state has a secret or config of
// compose key key.
func (d *Desired) mounts(kind, key string) bool {
	objects := d.Configs
	if kind == "secret" {
		objects = d.Secrets
	}
	return slices.ContainsFunc(objects, func(o Object) bool { return o.Key == key })
}

// link adds the edges between actions: a service's call needs the
// networks it joins and the services it depends on converged (for
// service_started as much as for service_healthy: a Swarm service has
// started once its tasks run, and they run once healthy); a network's or
// volume's removal needs the services gone.
func (b *builder) link() {
	for _, a := range b.plan.Actions {
		ao := b.points[a.Resource]
		for _, w := range a.WaitsFor {
			wp, ok := b.points[w]
			if !ok {
				continue
			}
			optional := slices.Contains(a.Optional, w)
			for _, g := range ao.gates {
				for _, p := range wp.done {
					if !slices.Contains(g.Needs, p) {
						g.Needs = append(g.Needs, p)
						if optional {
							g.Optional = append(g.Optional, p)
						}
					}
				}
			}
		}
	}
}

// network is the desired network of compose key key.
func (d *Desired) network(key string) Network {
	for _, n := range d.Networks {
		if n.Key == key {
			return n
		}
	}
	return Network{}
}

// service is the desired spec of a compose service.
func (d *Desired) service(name string) Service {
	for _, s := range d.Services {
		if s.Name == name {
			return s
		}
	}
	return Service{}
}

// modeName names a spec's mode as ObservedService.Mode does.
func modeName(s Service) string {
	switch m := s.Spec.Mode; {
	case m.Global != nil:
		return "global"
	case m.ReplicatedJob != nil:
		return "replicated-job"
	case m.GlobalJob != nil:
		return "global-job"
	}
	return "replicated"
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

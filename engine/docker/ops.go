package docker

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/versions"

	"github.com/stack-deploy/stack/engine"
)

// The payloads of the operations this driver plans; the executor makes the
// call each one names.
type (
	createNetwork struct{ key string }
	createVolume  struct{ key string }
	// removeResource removes one observed network or volume by ID or name.
	removeResource struct {
		typ  string
		r    engine.Resource
		gone bool // not there any more is fine
	}
	removeImage struct{ ref string }
	// createContainer creates a container as name from its finished spec:
	// the anonymous volumes of the container it replaces mounted again and,
	// hidden (start-first), on its networks without the names it answers
	// to until a join gives them, so no client reaches it before it is
	// ready.
	createContainer struct {
		name string
		spec spec
	}
	// connect attaches a container to one of its service's networks, as
	// its spec says (service empty: the gateway's, with no alias);
	// disconnect first when it is attached without the aliases it needs.
	connect struct {
		container, network string
		// endpoint is the settings its spec gives it there: none (the
		// gateway's), or without aliases while hidden (see createContainer).
		endpoint   *network.EndpointSettings
		disconnect bool
	}
	// containerCall is a call on one container by name or ID.
	containerCall struct {
		kind engine.OpKind // start, unpause, restart, stop, remove, rename
		ref  string        // name or ID
		// newName is the name a rename gives.
		newName string
		// volumes removes the container's anonymous volumes with it (down -v).
		volumes bool
		// name is the container's name for messages, when ref is its ID.
		name string
		// keepLogs saves the last lines of a replaced container before it
		// is removed, for `stack logs --previous`.
		keepLogs bool
	}
	waitContainer struct {
		service, container string
		cond               engine.Condition
		// monitor is how long it must stay ready (update_config.monitor).
		monitor time.Duration
	}
)

// TemporaryName is the name a replacement's new container has until the old
// one is gone: the service's name and the new configuration's hash, so a
// replacement interrupted and run again reuses it.
func TemporaryName(name, configHash string) string {
	return name + "-" + shortHash(configHash)
}

func shortHash(h string) string {
	if len(h) > 8 {
		return h[:8]
	}
	return h
}

// actionOps are one action's operations and the points other actions wait
// on: started (a service's containers started; for a removal, stopped) and
// done.
type actionOps struct {
	// resourceGates need the networks and volumes the action waits for;
	// depGates the services it waits for.
	resourceGates, depGates []*engine.Op
	started, done           []string
}

// Operations turns plan into this engine's calls: per container, create
// (under a temporary name where it replaces), connect, start, wait; stop,
// remove, rename; networks, volumes and images created and removed. A
// replacement is a transaction: its new container is removed and the old
// one started again when any step fails. It is pure.
func (d *Driver) Operations(plan *engine.Plan) (*engine.Graph, error) {
	g := &engine.Graph{}
	b := &builder{g: g, plan: plan, apiVersion: d.client.ClientVersion(), points: map[string]*actionOps{}, ids: map[string]int{}}
	for _, a := range plan.Actions {
		b.points[a.Resource] = b.action(a)
	}
	b.link()
	b.commit()
	if b.err != nil {
		return nil, b.err
	}
	if err := g.Check(); err != nil {
		return nil, fmt.Errorf("planning the engine calls: %w", err)
	}
	return g, nil
}

type builder struct {
	err        error // the first spec that could not be made
	g          *engine.Graph
	plan       *engine.Plan
	apiVersion string
	points     map[string]*actionOps
	ids        map[string]int // IDs made unique by uniqueID
	routes     []*engine.Op   // they need the gateway running
	postCommit []*engine.Op   // an atomic deploy makes them only once everything is ready
}

// deployTxn is the one transaction of an atomic deploy.
const deployTxn = "deploy"

// txn is the transaction named so, or the deploy's when it is atomic: then
// any failure undoes every replacement and creation of the run.
func (b *builder) txn(name string) string {
	if b.plan.Atomic {
		return deployTxn
	}
	return name
}

// afterCommit marks op as one that ends a replacement for good (removing
// the old container): an atomic deploy makes it only once every step of
// the deploy has succeeded.
func (b *builder) afterCommit(op *engine.Op) {
	b.postCommit = append(b.postCommit, op)
}

// commit adds, to an atomic deploy, the point every step of its
// transaction leads to, and makes what ends a replacement wait for it.
func (b *builder) commit() {
	if !b.plan.Atomic {
		return
	}
	var steps []string
	for _, op := range b.g.Ops {
		if op.Txn == deployTxn {
			steps = append(steps, op.ID)
		}
	}
	if len(steps) == 0 {
		return
	}
	c := &engine.Op{ID: "commit deploy", Kind: engine.OpCommit, Target: "deploy", Action: b.plan.Actions[len(b.plan.Actions)-1].Resource,
		Detail: "every service of the deploy ready", Needs: steps}
	b.g.Add(c)
	for _, op := range b.postCommit {
		op.Needs = appendNew(op.Needs, c.ID)
	}
}

func (b *builder) action(a *engine.Action) *actionOps {
	ao := &actionOps{}
	switch a.Type() {
	case "network", "volume":
		b.resource(a, ao)
	case "image":
		if a.Kind == engine.Remove {
			op := b.op(a, engine.OpRemove, "image:"+a.Name(), &removeImage{ref: a.Name()})
			ao.resourceGates = append(ao.resourceGates, op)
			ao.done = append(ao.done, op.ID)
		}
	case engine.GatewayResource:
		b.gateway(a, ao)
	case "service":
		if a.Orphan && a.Kind == engine.Unchanged {
			break // kept, with a warning
		}
		rs := b.replicas(a)
		var recreate []replica
		for _, r := range rs {
			if r.kind == engine.Recreate {
				recreate = append(recreate, r)
				continue
			}
			b.replica(a, r, rs, ao)
		}
		if len(recreate) > 0 {
			b.replace(a, recreate, rs, ao)
		}
	}
	return ao
}

func (b *builder) op(a *engine.Action, kind engine.OpKind, target string, payload any, needs ...string) *engine.Op {
	op := &engine.Op{Kind: kind, Target: target, Action: a.Resource, Payload: payload, Needs: needs}
	b.g.Add(op)
	return op
}

func (b *builder) resource(a *engine.Action, ao *actionOps) {
	typ := a.Type()
	switch a.Kind {
	case engine.Create:
		var payload any = &createNetwork{key: a.Name()}
		name := b.plan.Desired.Project.Networks[a.Name()].Name
		if typ == "volume" {
			payload = &createVolume{key: a.Name()}
			name = b.plan.Desired.Project.Volumes[a.Name()].Name
		}
		op := b.op(a, engine.OpCreate, typ+":"+name, payload)
		ao.resourceGates = append(ao.resourceGates, op)
		ao.done = append(ao.done, op.ID)
	case engine.Remove, engine.Repair:
		for _, r := range a.Resources {
			target := typ + ":" + r.Name
			if typ == "network" {
				target += "@" + shortID(r.ID) // duplicates share the name
			}
			op := b.op(a, engine.OpRemove, target, &removeResource{typ: typ, r: r, gone: true})
			ao.resourceGates = append(ao.resourceGates, op)
			ao.done = append(ao.done, op.ID)
		}
	}
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// containerName is the name of replica number of a's service: its
// container_name, or <project>-<service>-<number>.
func (b *builder) containerName(a *engine.Action, number int) string {
	if s, ok := b.plan.Desired.Project.Services[a.Name()]; ok && s.ContainerName != "" {
		return s.ContainerName
	}
	return ContainerName(b.plan.Project, a.Name(), number)
}

// replica plans the calls of one replica step; rs are all the action's.
func (b *builder) replica(a *engine.Action, r replica, rs []replica, ao *actionOps) {
	name := b.containerName(a, r.number)
	c := r.c
	switch r.kind {
	case engine.Create:
		txn := b.txn("create " + name)
		create := b.op(a, engine.OpCreate, "container:"+name, b.createPayload(a, r.number, name, nil, false))
		create.Txn = txn
		create.Undo = &engine.Op{Kind: engine.OpRemove, Target: "container:" + name, Payload: &containerCall{kind: engine.OpRemove, ref: name}}
		ao.resourceGates = append(ao.resourceGates, create)
		last := b.connects(a, name, b.extraNetworks(a), b.copyFiles(a, name, create.ID, txn), txn)
		start := b.op(a, engine.OpStart, "container:"+name, &containerCall{kind: engine.OpStart, ref: name}, last...)
		start.Txn = txn
		ao.depGates = append(ao.depGates, start)
		b.serve(a, ao, name, start, txn)
	case engine.Start, engine.Restart, engine.Unchanged, engine.Repair:
		needs := b.leftovers(a, r.number, rs, ao)
		ref := c.Name
		if r.rename {
			rename := b.op(a, engine.OpRename, "container:"+c.Name, &containerCall{kind: engine.OpRename, ref: c.ID, name: c.Name, newName: name}, needs...)
			rename.Detail = "to " + name
			needs, ref = []string{rename.ID}, name
			ao.done = append(ao.done, rename.ID)
		}
		needs = b.reconnects(a, ref, c, r.connect, needs)
		ao.done = append(ao.done, needs...)
		var gate *engine.Op
		switch r.kind {
		case engine.Start:
			kind := engine.OpStart
			if c.State == "paused" {
				kind = engine.OpUnpause
			}
			gate = b.op(a, kind, "container:"+ref, &containerCall{kind: kind, ref: ref}, needs...)
		case engine.Restart:
			gate = b.op(a, engine.OpRestart, "container:"+ref, &containerCall{kind: engine.OpRestart, ref: ref}, needs...)
		}
		if gate != nil {
			ao.depGates = append(ao.depGates, gate)
			b.serve(a, ao, ref, gate, "")
			return
		}
		if !ready(c, a.Ready) {
			w := b.wait(a, ref, needs...)
			ao.started = append(ao.started, w.ID)
			ao.done = append(ao.done, w.ID)
		}
	case engine.Stop:
		first, needs := b.takeOff(a, c)
		stop := b.op(a, engine.OpStop, "container:"+c.Name, &containerCall{kind: engine.OpStop, ref: c.ID, name: c.Name}, needs...)
		first = cmp.Or(first, stop)
		ao.depGates = append(ao.depGates, first)
		ao.started = append(ao.started, stop.ID)
		ao.done = append(ao.done, stop.ID)
	case engine.Remove:
		if r.leftover {
			return // planned with the replica it was left beside
		}
		needs := b.leftovers(a, r.number, rs, ao)
		var first *engine.Op // what waits for the dependants: the route, the stop, or the removal
		if c.Running() {
			first, needs = b.takeOff(a, c, needs...)
		}
		if c.Running() {
			stop := b.op(a, engine.OpStop, "container:"+c.Name, &containerCall{kind: engine.OpStop, ref: c.ID, name: c.Name}, needs...)
			first = cmp.Or(first, stop)
			needs = []string{stop.ID}
		}
		remove := b.op(a, engine.OpRemove, "container:"+c.Name, &containerCall{kind: engine.OpRemove, ref: c.ID, name: c.Name, volumes: a.Volumes}, needs...)
		if first == nil {
			first = remove
		}
		ao.depGates = append(ao.depGates, first)
		ao.started = append(ao.started, first.ID)
		ao.done = append(ao.done, remove.ID)
	}
}

// takeOff plans, when the gateway routes to a's service, taking c off its
// routes and waiting for the requests under way on it, after needs; it
// returns the first operation (nil when not routed) and what comes next
// needs.
func (b *builder) takeOff(a *engine.Action, c *engine.Container, needs ...string) (*engine.Op, []string) {
	if !b.routed(a) {
		return nil, needs
	}
	out := b.route(a, nil, []string{c.ID}, "", needs...)
	drain := b.op(a, engine.OpWait, "container:"+c.Name+" gateway", &drain{container: c.ID, name: c.Name}, out.ID)
	drain.Detail = "until the gateway has no request under way on " + c.Name
	return out, []string{drain.ID}
}

// leftovers plans removing the containers an interrupted replacement left
// beside replica number's (among rs), and returns their IDs: what the
// replica's own calls need first (a leftover may hold the temporary name).
func (b *builder) leftovers(a *engine.Action, number int, rs []replica, ao *actionOps) []string {
	var ids []string
	for _, r := range rs {
		if r.number == number && r.leftover {
			op := b.op(a, engine.OpRemove, "container:"+r.c.Name, &containerCall{kind: engine.OpRemove, ref: r.c.ID, name: r.c.Name})
			op.Detail = "left from an interrupted replacement"
			ids = append(ids, op.ID)
			ao.done = append(ao.done, op.ID)
		}
	}
	return ids
}

// serve plans the wait after gate as ready does and, when the gateway routes
// to the service, the route to the container once it is ready: its
// dependants wait for that.
func (b *builder) serve(a *engine.Action, ao *actionOps, container string, gate *engine.Op, txn string) {
	w := b.ready(a, ao, container, gate)
	if !b.routed(a) {
		return
	}
	readyID := gate.ID
	if w != nil {
		readyID = w.ID
	}
	in := b.route(a, []string{container}, nil, txn, readyID)
	ao.done[len(ao.done)-1] = in.ID
}

// ready plans the wait after gate (a start or restart) when the action's
// readiness is more than started, records the action's points, and returns
// the wait, nil when the gate's end means ready.
func (b *builder) ready(a *engine.Action, ao *actionOps, container string, gate *engine.Op) *engine.Op {
	ao.started = append(ao.started, gate.ID)
	if a.Ready == engine.Started || a.Ready == "" {
		ao.done = append(ao.done, gate.ID)
		return nil
	}
	w := b.wait(a, container, gate.ID)
	ao.done = append(ao.done, w.ID)
	return w
}

func (b *builder) wait(a *engine.Action, container string, needs ...string) *engine.Op {
	w := b.op(a, engine.OpWait, "container:"+container, &waitContainer{service: a.Name(), container: container, cond: a.Ready}, needs...)
	w.Condition, w.Detail = a.Ready, "until "+string(a.Ready)
	return w
}

// ready reports whether an unchanged container is already as cond says.
func ready(c *engine.Container, cond engine.Condition) bool {
	switch cond {
	case engine.Completed:
		return c.Completed()
	case engine.Healthy:
		return c.Running() && c.Health == "healthy"
	default:
		return c.Running()
	}
}

// extraNetworks are the networks a new container of a's service joins after
// it is created: engines before API 1.44 take one at creation.
func (b *builder) extraNetworks(a *engine.Action) []string {
	if versions.GreaterThanOrEqualTo(b.apiVersion, "1.44") {
		return nil
	}
	s, ok := b.plan.Desired.Project.Services[a.Name()]
	if !ok || s.NetworkMode != "" {
		return nil
	}
	var out []string
	for i, key := range s.NetworksByPriority() {
		if i == 0 {
			continue
		}
		name := key
		if n, ok := b.plan.Desired.Project.Networks[key]; ok {
			name = n.Name
		}
		out = append(out, name)
	}
	return out
}

// connects plans connecting a new container to networks, one after the
// other from after, in txn; it returns what comes next needs.
func (b *builder) connects(a *engine.Action, container string, networks []string, after, txn string) []string {
	return b.connectAll(a, container, networks, after, txn, false)
}

// connectAll is connects, hidden or not (see createContainer).
func (b *builder) connectAll(a *engine.Action, container string, networks []string, after, txn string, hidden bool) []string {
	last := []string{after}
	for _, n := range networks {
		op := b.op(a, engine.OpConnect, "container:"+container+" network:"+n, &connect{container: container, network: n, endpoint: b.endpoint(a, n, hidden)}, last...)
		op.Txn = txn
		last = []string{op.ID}
	}
	return last
}

// reconnects plans (re)connecting an existing container to the networks
// drift found it missing; it returns what comes next needs.
func (b *builder) reconnects(a *engine.Action, ref string, c *engine.Container, networks []string, needs []string) []string {
	for _, n := range networks {
		_, attached := c.Networks[n]
		op := b.op(a, engine.OpConnect, "container:"+ref+" network:"+n, &connect{container: ref, network: n, endpoint: b.endpoint(a, n, false), disconnect: attached}, needs...)
		if attached {
			op.Detail = "again, with its aliases"
		}
		needs = []string{op.ID}
	}
	return needs
}

// link adds the edges between actions: a container's creation needs the
// networks and volumes it uses; its start (or its old container's stop)
// the services it depends on, started or ready as depends_on says; a
// removal waits for what the plan says (down: dependants stopped first).
func (b *builder) link() {
	for _, a := range b.plan.Actions {
		ao := b.points[a.Resource]
		for _, w := range a.WaitsFor {
			wp, ok := b.points[w]
			if !ok {
				continue
			}
			points := wp.done
			if slices.Contains(a.AfterStart, w) {
				points = wp.started
			}
			gates := ao.depGates
			if t, _, _ := strings.Cut(w, ":"); t == "network" || t == "volume" {
				gates = ao.resourceGates
			} else if a.Type() != "service" {
				gates = ao.resourceGates // a network or volume removal waits for the containers
			}
			optional := slices.Contains(a.Optional, w)
			for _, g := range gates {
				for _, p := range points {
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
	if gw, ok := b.points[engine.GatewayResource]; ok {
		for _, r := range b.routes {
			r.Needs = appendNew(r.Needs, gw.done...)
		}
	}
}

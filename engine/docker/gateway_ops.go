package docker

import (
	"strconv"

	"github.com/stack-deploy/stack/engine"
)

// Payloads of the gateway's operations.
type (
	// createGateway creates the gateway container (as name).
	createGateway struct{ name string }
	// configure copies the routes into a created gateway before it starts.
	configure struct{ name string }
	// route changes which containers receive a service's traffic (add
	// them, remove those, by name or ID) and loads the routes into the
	// running gateway; with neither, it loads them again as they are.
	route struct {
		service     string
		add, remove []string
	}
	// drain waits until the gateway has no request under way on a
	// container it no longer routes to.
	drain struct{ container, name string }
)

// routed reports whether the gateway routes to a's service, and stays:
// when the run removes the gateway, nothing is routed any more.
func (b *builder) routed(a *engine.Action) bool {
	m := b.plan.Desired
	if g := b.plan.Action(engine.GatewayResource); g == nil || g.Kind == engine.Remove {
		return false
	}
	return m.Stack.Gateway != nil && a.Type() == "service" && len(m.Services[a.Name()].Route) > 0
}

// route plans changing who receives a's traffic, in txn (undone by the
// change back), once needs are done and the gateway runs.
func (b *builder) route(a *engine.Action, add, remove []string, txn string, needs ...string) *engine.Op {
	op := &engine.Op{ID: b.uniqueID("route " + a.Resource), Kind: engine.OpRoute, Target: "gateway", Action: a.Resource,
		Payload: &route{service: a.Name(), add: add, remove: remove}, Needs: needs, Txn: txn}
	b.g.Add(op)
	op.Undo = &engine.Op{Kind: engine.OpRoute, Target: "gateway", Payload: &route{service: a.Name(), add: remove, remove: add}}
	b.routes = append(b.routes, op)
	return op
}

// uniqueID is id, or id with a counter when the graph has it already.
func (b *builder) uniqueID(id string) string {
	b.ids[id]++
	if n := b.ids[id]; n > 1 {
		return id + " #" + strconv.Itoa(n)
	}
	return id
}

// gateway plans the gateway's own container: created, configured with the
// routes before it starts; replaced stop-first (it holds the ports); the
// routes reloaded; removed.
func (b *builder) gateway(a *engine.Action, ao *actionOps) {
	name := GatewayName(b.plan.Project)
	if a.Kind == engine.Unchanged {
		return
	}
	var c engine.Container // the observed gateway container; none for a create
	if g := b.plan.Observed.Gateway; g != nil {
		c = g.Container
	}
	startAndWait := func(target string, needs ...string) *engine.Op {
		start := b.op(a, engine.OpStart, "container:"+target, &containerCall{kind: engine.OpStart, ref: target}, needs...)
		w := b.op(a, engine.OpWait, "container:"+target, &waitContainer{service: "gateway", container: target, cond: engine.Started}, start.ID)
		w.Condition, w.Detail = engine.Started, "until started"
		ao.started = append(ao.started, start.ID)
		ao.done = append(ao.done, w.ID)
		return w
	}
	made := func(target, txn string) []string {
		create := b.op(a, engine.OpCreate, "container:"+target, &createGateway{name: target})
		create.Txn = txn
		create.Undo = &engine.Op{Kind: engine.OpRemove, Target: "container:" + target, Payload: &containerCall{kind: engine.OpRemove, ref: target}}
		ao.resourceGates = append(ao.resourceGates, create)
		last := b.connects(a, target, b.gatewayNetworks()[min(1, len(b.gatewayNetworks())):], create.ID, txn)
		cfg := b.op(a, engine.OpCopy, "container:"+target+" routes", &configure{name: target}, last...)
		cfg.Txn = txn
		return []string{cfg.ID}
	}
	switch a.Kind {
	case engine.Create:
		startAndWait(name, made(name, b.txn("create "+name))...)
	case engine.Recreate:
		tmp := TemporaryName(name, a.ConfigHash)
		txn := b.txn("replace " + name)
		needs := made(tmp, txn)
		stop := b.op(a, engine.OpStop, "container:"+c.Name, &containerCall{kind: engine.OpStop, ref: c.ID, name: c.Name}, needs...)
		stop.Txn = txn
		stop.Undo = &engine.Op{Kind: engine.OpStart, Target: "container:" + c.Name, Detail: c.Name + " runs again", Payload: &containerCall{kind: engine.OpStart, ref: c.ID, name: c.Name}}
		w := startAndWait(tmp, stop.ID)
		w.Txn = txn
		remove := b.op(a, engine.OpRemove, "container:"+c.Name, &containerCall{kind: engine.OpRemove, ref: c.ID, name: c.Name}, w.ID)
		b.afterCommit(remove)
		b.op(a, engine.OpRename, "container:"+tmp, &containerCall{kind: engine.OpRename, ref: tmp, newName: name}, remove.ID)
	case engine.Start:
		startAndWait(c.Name)
	case engine.Reload:
		op := b.op(a, engine.OpRoute, "gateway", &route{})
		op.Detail = "the routes as the manifest has them"
		ao.done = append(ao.done, op.ID)
	case engine.Remove:
		stop := b.op(a, engine.OpStop, "container:"+c.Name, &containerCall{kind: engine.OpStop, ref: c.ID, name: c.Name})
		remove := b.op(a, engine.OpRemove, "container:"+c.Name, &containerCall{kind: engine.OpRemove, ref: c.ID, name: c.Name}, stop.ID)
		ao.depGates = append(ao.depGates, stop)
		ao.done = append(ao.done, remove.ID)
	}
}

// gatewayNetworks are the networks the gateway is on.
func (b *builder) gatewayNetworks() []string {
	if b.plan.Gateway == nil {
		return nil
	}
	return b.plan.Gateway.Networks
}

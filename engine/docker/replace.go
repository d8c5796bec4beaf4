package docker

import (
	"cmp"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/stack-deploy/stack/engine"
)

// Replacing a service's containers, as its deploy.update_config says
// (engine.Update): in batches of Parallelism (all at once when 0), each
// after the one before and Delay; each replica stop-first (the old stops,
// the new starts) or start-first (the new starts beside the old, which
// leaves once the new is ready). Either way the new container is created
// under a temporary name first, and until it is ready the old one is kept:
// a failure undoes the transaction (the new removed, the old running and
// receiving its traffic again). failure_action rollback makes the whole
// service one transaction, its old containers removed only once every
// batch is ready; pause and continue make each batch one, pause skipping the
// batches after a failure, continue going on with them.

// Payloads of the replacement's own steps.
type (
	// leave takes a container off the networks it answers on by name,
	// so that clients resolving the service reach only the new ones.
	leave struct {
		container string
		name      string
		networks  []string
		// rejoin connects it again instead, with endpoints: the undo.
		rejoin    bool
		endpoints map[string]*network.EndpointSettings
	}
	// pause waits between two batches.
	pause struct{ d time.Duration }
)

// replace plans replacing the replicas rs of a, among all its steps.
func (b *builder) replace(a *engine.Action, rs, all []replica, ao *actionOps) {
	u := a.Update
	if u == nil {
		u = &engine.Update{Order: engine.StopFirst, FailureAction: engine.FailRollback}
	}
	size := u.Parallelism
	if size <= 0 || size > len(rs) {
		size = len(rs)
	}
	// Others serve while one is replaced when not every replica is
	// replaced at once.
	running := 0
	for _, r := range all {
		if r.kind == engine.Unchanged && r.c != nil && r.c.Running() {
			running++
		}
	}
	othersServe := size < len(rs) || running > 0
	var (
		after    []string // what the next batch needs: the last batch's readiness (and delay)
		optional bool     // after's failure does not stop the next batch (continue)
		ready    []string // every replica's readiness: the service's, for rollback
		removes  []*engine.Op
	)
	for i := 0; i*size < len(rs); i++ {
		batch := rs[i*size : min((i+1)*size, len(rs))]
		txn := b.txn(fmt.Sprintf("replace %s", a.Resource))
		if u.FailureAction != engine.FailRollback && len(rs) > size {
			txn = b.txn(fmt.Sprintf("replace %s batch %d", a.Resource, i+1))
		}
		var batchReady []string
		for _, r := range batch {
			readyID, remove := b.replaceOne(a, r, all, u, txn, after, optional, othersServe, ao)
			batchReady = append(batchReady, readyID)
			removes = append(removes, remove)
		}
		ready = append(ready, batchReady...)
		after, optional = batchReady, u.FailureAction == engine.FailContinue
		if u.Delay > 0 && (i+1)*size < len(rs) {
			d := b.op(a, engine.OpWait, fmt.Sprintf("%s after batch %d", a.Resource, i+1), &pause{d: u.Delay}, batchReady...)
			d.Detail = fmt.Sprintf("%s before the next batch", u.Delay)
			if optional {
				d.Optional = batchReady
			}
			after = []string{d.ID}
		}
	}
	if u.FailureAction == engine.FailRollback {
		// The old containers go only once every new one is ready: until
		// then a failure starts them all again.
		for _, rm := range removes {
			rm.Needs = appendNew(rm.Needs, ready...)
		}
	}
}

// replaceOne plans replacing one replica in txn after the operations
// after (optional: their failure does not stop it); othersServe says
// whether other replicas receive the service's traffic meanwhile. It
// returns the ID of the operation after which the new container is ready
// and serves, and the removal of the old.
func (b *builder) replaceOne(a *engine.Action, r replica, all []replica, u *engine.Update, txn string, after []string, optional, othersServe bool, ao *actionOps) (string, *engine.Op) {
	name := b.containerName(a, r.number)
	x := &replacement{b: b, a: a, u: u, ao: ao, txn: txn, old: r.c, all: all, tmp: TemporaryName(name, a.ConfigHash)}
	// Start-first: the new container answers to the service's names only
	// once it is ready (a join), not as soon as it runs.
	x.hidden = u.Order == engine.StartFirst && len(b.networkNames(a)) > 0
	last := x.create(r.number, after, optional)
	var readyID string
	var tail []string // what the old container's removal needs
	if u.Order == engine.StartFirst {
		readyID, tail = x.startFirst(last)
	} else {
		readyID, tail = x.stopFirst(last, othersServe)
	}
	ao.done = append(ao.done, readyID)
	c := x.old
	remove := b.op(a, engine.OpRemove, "container:"+c.Name, &containerCall{kind: engine.OpRemove, ref: c.ID, name: c.Name, keepLogs: true}, appendNew([]string{readyID}, tail...)...)
	rename := b.op(a, engine.OpRename, "container:"+x.tmp, &containerCall{kind: engine.OpRename, ref: x.tmp, newName: name}, remove.ID)
	rename.Detail = "to " + name // dependants need not wait for it
	b.afterCommit(remove)
	return readyID, remove
}

// replacement is the planning of one replica's replacement: the old
// container, and the new one under its temporary name.
type replacement struct {
	b      *builder
	a      *engine.Action
	u      *engine.Update
	ao     *actionOps
	txn    string
	old    *engine.Container
	all    []replica // the action's steps
	tmp    string
	hidden bool
}

// create plans the new container's create, its secrets and configs and
// its other networks, and returns what follows them.
func (x *replacement) create(number int, after []string, optional bool) []string {
	b, a := x.b, x.a
	inherited := x.old.Anonymous
	if a.RenewAnonymous {
		inherited = nil // -V: new ones; the old stay on the engine, unused
	}
	payload := b.createPayload(a, number, x.tmp, inherited, x.hidden)
	create := b.op(a, engine.OpCreate, "container:"+x.tmp, payload, b.leftovers(a, number, x.all, x.ao)...)
	create.Needs = appendNew(create.Needs, after...)
	if optional {
		create.Optional = after
	}
	create.Txn, create.Detail = x.txn, "replaces "+x.old.Name
	create.Undo = &engine.Op{Kind: engine.OpRemove, Target: "container:" + x.tmp, Detail: "removed " + x.tmp,
		Payload: &containerCall{kind: engine.OpRemove, ref: x.tmp}}
	x.ao.resourceGates = append(x.ao.resourceGates, create)
	return b.connectAll(a, x.tmp, b.extraNetworks(a), b.copyFiles(a, x.tmp, create.ID, x.txn), x.txn, x.hidden)
}

// startNew plans the new container's start: undone by removing it at
// once, so the old one has its ports back.
func (x *replacement) startNew(needs ...string) *engine.Op {
	start := x.b.op(x.a, engine.OpStart, "container:"+x.tmp, &containerCall{kind: engine.OpStart, ref: x.tmp}, needs...)
	start.Txn = x.txn
	start.Undo = &engine.Op{Kind: engine.OpRemove, Target: "container:" + x.tmp, Payload: &containerCall{kind: engine.OpRemove, ref: x.tmp}}
	x.ao.started = append(x.ao.started, start.ID)
	return start
}

func (x *replacement) stopOld(needs ...string) *engine.Op {
	c := x.old
	stop := x.b.op(x.a, engine.OpStop, "container:"+c.Name, &containerCall{kind: engine.OpStop, ref: c.ID, name: c.Name}, needs...)
	if c.Running() {
		stop.Undo = &engine.Op{Kind: engine.OpStart, Target: "container:" + c.Name, Detail: c.Name + " runs again",
			Payload: &containerCall{kind: engine.OpStart, ref: c.ID, name: c.Name}}
	}
	return stop
}

// waitNew plans the wait for the new container. One that never turns
// ready, exits at once (say, its entrypoint does not exist) or fails while
// monitored is rolled back too: its wait is part of the transaction, even
// when ready means started.
func (x *replacement) waitNew(needs ...string) *engine.Op {
	w := x.b.wait(x.a, x.tmp, needs...)
	w.Condition = cmp.Or(x.a.Ready, engine.Started)
	wc := w.Payload.(*waitContainer)
	wc.cond, wc.monitor = w.Condition, x.u.Monitor
	w.Detail = "until " + string(w.Condition)
	if x.u.Monitor > 0 {
		w.Detail += fmt.Sprintf(", then %s more", x.u.Monitor)
	}
	w.Txn = x.txn
	return w
}

// undoable puts op in the transaction when the update rolls back: the old
// container, taken out of service, comes back if a later batch fails.
func (x *replacement) undoable(op *engine.Op) *engine.Op {
	if x.u.FailureAction == engine.FailRollback {
		op.Txn = x.txn
	}
	return op
}

// startFirst plans the new container started, ready and serving before the
// old one leaves its routes and networks and stops.
func (x *replacement) startFirst(last []string) (string, []string) {
	b, a, c := x.b, x.a, x.old
	start := x.startNew(last...)
	x.ao.depGates = append(x.ao.depGates, start) // the new runs only once its dependencies are ready
	readyID := x.waitNew(start.ID).ID
	if x.hidden {
		// Ready: it joins the service's names (connected again, with its
		// aliases), beside the old one until that one leaves.
		for _, n := range b.networkNames(a) {
			j := b.op(a, engine.OpConnect, "container:"+x.tmp+" network:"+n, &connect{container: x.tmp, network: n, endpoint: b.endpoint(a, n, false), disconnect: true}, readyID)
			j.ID = b.uniqueID("join " + j.Target)
			j.Txn, j.Detail = x.txn, "with the service's aliases, now that it is ready"
			readyID = j.ID
		}
	}
	var tail []string
	if b.routed(a) {
		in := b.route(a, []string{x.tmp}, []string{c.ID}, x.txn, readyID)
		drain := x.undoable(b.op(a, engine.OpWait, "container:"+c.Name+" gateway", &drain{container: c.ID, name: c.Name}, in.ID))
		drain.Detail = "until the gateway has no request under way on " + c.Name
		readyID = in.ID
		tail = []string{drain.ID}
	}
	needs := appendNew([]string{readyID}, tail...)
	if nets := b.networkNames(a); len(nets) > 0 {
		lv := x.undoable(b.op(a, engine.OpDisconnect, "container:"+c.Name, &leave{container: c.ID, name: c.Name, networks: nets}, needs...))
		lv.Detail = "off its networks: clients that resolve " + a.Name() + " reach the new container only"
		lv.Undo = &engine.Op{Kind: engine.OpConnect, Target: "container:" + c.Name, Detail: c.Name + " back on its networks",
			Payload: &leave{container: c.ID, name: c.Name, networks: nets, endpoints: b.endpoints(a, nets), rejoin: true}}
		needs = []string{lv.ID}
	}
	stop := x.undoable(x.stopOld(needs...))
	return readyID, []string{stop.ID}
}

// stopFirst plans the old container stopped before the new one starts.
func (x *replacement) stopFirst(last []string, othersServe bool) (string, []string) {
	b, a, c := x.b, x.a, x.old
	needs := last
	routed := b.routed(a)
	if routed && othersServe {
		// Traffic goes to the other replicas while this one is replaced;
		// with none, the gateway keeps trying the old for a few seconds,
		// which the new one may answer in time.
		out := b.route(a, nil, []string{c.ID}, x.txn, last...)
		out.Detail = "others serve while " + c.Name + " is replaced"
		needs = []string{out.ID}
	}
	stop := x.stopOld(needs...)
	stop.Txn = x.txn
	x.ao.depGates = append(x.ao.depGates, stop) // the old runs until the dependencies are ready
	w := x.waitNew(x.startNew(stop.ID).ID)
	readyID := w.ID
	if routed {
		readyID = b.route(a, []string{x.tmp}, []string{c.ID}, x.txn, w.ID).ID
	}
	return readyID, []string{readyID}
}

// createPayload is the creation of replica number of a's service as name,
// mounting the anonymous volumes keep of the container it replaces, hidden
// or not (see createContainer).
func (b *builder) createPayload(a *engine.Action, number int, name string, keep []engine.Mount, hidden bool) *createContainer {
	sp := b.spec(a, number)
	var mounts []mount.Mount
	for _, m := range keep {
		mounts = append(mounts, mount.Mount{Type: mount.TypeVolume, Source: m.Name, Target: m.Target})
	}
	if sp.host != nil {
		sp.host.Mounts = append(sp.host.Mounts, uncovered(sp.host, mounts)...)
	}
	if hidden && sp.network != nil {
		for _, ep := range sp.network.EndpointsConfig {
			ep.Aliases = nil
		}
	}
	return &createContainer{name: name, spec: sp}
}

// spec is the container spec of replica number of a's service; a spec
// that cannot be made is Operations' error.
func (b *builder) spec(a *engine.Action, number int) spec {
	p := b.plan.Desired
	service := a.Name()
	sp, _, err := containerSpec(p.Project, p.Project.Services[service], containerLabels(p, service, number, a), b.apiVersion)
	if err != nil {
		if b.err == nil {
			b.err = err
		}
		return spec{}
	}
	sp.config.Image = p.ImageName(service)
	return sp
}

// endpoint is the settings a's service's spec gives its containers on
// network n, without aliases when hidden.
func (b *builder) endpoint(a *engine.Action, n string, hidden bool) *network.EndpointSettings {
	sp := b.spec(a, 1)
	ep := sp.connect[n]
	if ep == nil && sp.network != nil {
		ep = sp.network.EndpointsConfig[n]
	}
	if ep == nil {
		return &network.EndpointSettings{}
	}
	if hidden {
		h := *ep
		h.Aliases = nil
		ep = &h
	}
	return ep
}

// endpoints are endpoint's settings for each of networks.
func (b *builder) endpoints(a *engine.Action, networks []string) map[string]*network.EndpointSettings {
	out := map[string]*network.EndpointSettings{}
	for _, n := range networks {
		out[n] = b.endpoint(a, n, false)
	}
	return out
}

// networkNames are the engine names of the networks a's service is on.
func (b *builder) networkNames(a *engine.Action) []string {
	s, ok := b.plan.Desired.Project.Services[a.Name()]
	if !ok {
		return nil
	}
	var out []string
	for _, key := range engine.ServiceNetworks(s) {
		if n, ok := b.plan.Desired.Project.Networks[key]; ok {
			out = append(out, n.Name)
		}
	}
	return out
}

// appendNew appends the ids not in list already.
func appendNew(list []string, ids ...string) []string {
	for _, id := range ids {
		found := false
		for _, have := range list {
			found = found || have == id
		}
		if !found {
			list = append(list, id)
		}
	}
	return list
}

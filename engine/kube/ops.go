package kube

import (
	"fmt"
	"strings"

	"github.com/stack-deploy/stack/engine"
)

// The operations of a Kubernetes run beyond engine's: a server-side apply
// of finished objects, a deletion, a restart and a scale of a workload.
const (
	OpApply   engine.OpKind = "apply"
	OpDelete  engine.OpKind = "delete"
	OpRestart engine.OpKind = "restart"
	OpScale   engine.OpKind = "scale"
)

// Apply is an apply operation's payload: the apply configurations to
// server-side apply, in order (namespace first, the workload last).
type Apply struct {
	Objects []any
}

// Delete is a delete operation's payload, and what a wait for their going
// waits for.
type Delete struct {
	Namespace string
	Objects   []Object
}

// Rollout is the payload of a wait for a workload's rollout (a Job's
// completion), and of a restart or scale of it.
type Rollout struct {
	Project   string
	Namespace string
	Service   string
	Kind      Kind
	Name      string
	// Hash is the config hash of the pods waited for; Replicas what a
	// scale sets.
	Hash     string
	Replicas int32
	// Selector selects the pods when they are no service's (the
	// gateway's); empty: the service's.
	Selector string
}

// Operations turns each action into Kubernetes calls, reading only its
// Kind, its dependencies and the objects Map makes of the desired project:
//
//   - a service created, replaced, scaled, started or repaired is one
//     server-side apply of its objects (and of the namespace, secrets,
//     config maps and shared claims its pods mount), then a wait for its
//     rollout as `kubectl rollout status` decides it, or for its Job to
//     complete. A Job, whose pod template cannot change, and a workload
//     whose kind changes are deleted first, and waited gone;
//   - a restarted service has its pod template's restartedAt annotation
//     set (`kubectl rollout restart`), then is waited for;
//   - a stopped service is scaled to 0;
//   - a removed service: its workload and Services deleted, then waited
//     gone; a removed volume (down -v): its claims deleted and waited gone;
//   - the gateway created, changed or started is one server-side apply of
//     its ConfigMap, Service and Deployment, then a wait for its rollout;
//     removed, they are deleted and waited gone (gateway_ops.go);
//   - networks are the namespace: nothing to do;
//   - an object of the project's ApplySet that is no longer made (a secret
//     nothing mounts, a Service for ports no longer published) is pruned:
//     an action of its own, deleted once the rest is done (applyset.go).
func (d *Driver) Operations(plan *engine.Plan) (*engine.Graph, error) {
	b := &opBuilder{d: d, plan: plan, g: &engine.Graph{}, last: map[string]string{}}
	if c, ok := observedCluster(plan.Observed); ok {
		b.cluster = c
	} else {
		b.cluster = &Cluster{Workloads: map[string]Workload{}, Claims: map[string][]string{}}
		if plan.Desired != nil {
			b.cluster.Namespace = d.namespaceOf(plan.Desired)
		}
	}
	for _, a := range plan.Actions {
		if a.Kind == engine.Unchanged || a.Kind == engine.Adopt {
			continue
		}
		var err error
		switch a.Type() {
		case "service":
			err = b.service(a)
		case "volume":
			b.volume(a)
		case engine.GatewayResource:
			err = b.gateway(a)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := b.prune(); err != nil {
		return nil, err
	}
	return b.g, b.g.Check()
}

type opBuilder struct {
	d       *Driver
	plan    *engine.Plan
	cluster *Cluster
	objects *Objects
	g       *engine.Graph
	// last is the final operation of each resource's action: what its
	// dependants need.
	last map[string]string
}

// desired maps the desired project once.
func (b *opBuilder) desired() (*Objects, error) {
	if b.objects == nil {
		objs, _, err := b.d.mapProject(b.plan.Desired)
		if err != nil {
			return nil, fmt.Errorf("mapping the project to Kubernetes objects: %w", err)
		}
		objs.joinApplySet()
		b.objects = objs
	}
	return b.objects, nil
}

// add appends op after the final operations of what a waits for, and of
// the previous op of the chain (prev, "" for none); it returns op's ID.
func (b *opBuilder) add(a *engine.Action, op *engine.Op, prev string) string {
	op.Action = a.Resource
	if prev != "" {
		op.Needs = append(op.Needs, prev)
	} else {
		for _, w := range a.WaitsFor {
			if id, ok := b.last[w]; ok {
				op.Needs = append(op.Needs, id)
				for _, o := range a.Optional {
					if o == w {
						op.Optional = append(op.Optional, id)
					}
				}
			}
		}
	}
	id := b.g.Add(op)
	b.last[a.Resource] = id
	return id
}

func (b *opBuilder) service(a *engine.Action) error {
	name, ns := a.Name(), b.cluster.Namespace
	have, exists := b.cluster.Workloads[name]
	switch a.Kind {
	case engine.Remove:
		var objs []Object
		for _, o := range b.cluster.Objects {
			if o.Service == name && o.Kind != "PersistentVolumeClaim" {
				objs = append(objs, o)
			}
		}
		b.deleteAndWait(a, Delete{Namespace: ns, Objects: objs}, "", "service:"+name, "", nil)
		return nil
	case engine.Recreate:
		if exists && a.Recreate == engine.RecreateForce && have.Hash == a.ConfigHash {
			// --force-recreate of a current workload: its pods replaced as
			// its update strategy says, as `kubectl rollout restart` does
			r := Rollout{Project: b.plan.Project, Namespace: ns, Service: name, Kind: have.Kind, Name: have.Name, Hash: have.Hash}
			id := b.add(a, &engine.Op{Kind: OpRestart, Target: target(have.Kind, have.Name), Detail: "--force-recreate: kubectl rollout restart", Payload: r}, "")
			b.add(a, &engine.Op{Kind: engine.OpWait, Target: target(have.Kind, have.Name), Condition: a.Ready, Detail: "until rolled out", Payload: r}, id)
			return nil
		}
	case engine.Restart:
		if exists {
			r := Rollout{Project: b.plan.Project, Namespace: ns, Service: name, Kind: have.Kind, Name: have.Name, Hash: have.Hash}
			id := b.add(a, &engine.Op{Kind: OpRestart, Target: target(have.Kind, have.Name), Detail: "kubectl rollout restart", Payload: r}, "")
			b.add(a, &engine.Op{Kind: engine.OpWait, Target: target(have.Kind, have.Name), Condition: a.Ready, Detail: "until rolled out", Payload: r}, id)
			return nil
		}
	case engine.Stop:
		if exists {
			r := Rollout{Project: b.plan.Project, Namespace: ns, Service: name, Kind: have.Kind, Name: have.Name}
			b.add(a, &engine.Op{Kind: OpScale, Target: target(have.Kind, have.Name), Detail: "to 0 replicas", Payload: r}, "")
			return nil
		}
	}
	objs, err := b.desired()
	if err != nil {
		return err
	}
	s, ok := objs.service(name)
	if !ok {
		return fmt.Errorf("service %q: not in the mapped objects", name)
	}
	if a.Kind == engine.Start && exists && have.Replicas == 0 && (s.Kind == Deployment || s.Kind == StatefulSet) {
		// stopped (scaled to 0), and current as Diff says: scaled back, its
		// template as it is
		r := Rollout{Project: b.plan.Project, Namespace: ns, Service: name, Kind: have.Kind, Name: have.Name, Hash: have.Hash, Replicas: s.replicas()}
		id := b.add(a, &engine.Op{Kind: OpScale, Target: target(have.Kind, have.Name), Detail: fmt.Sprintf("to %d replicas", r.Replicas), Payload: r}, "")
		b.add(a, &engine.Op{Kind: engine.OpWait, Target: target(have.Kind, have.Name), Condition: a.Ready, Detail: "until rolled out", Payload: r}, id)
		return nil
	}
	prev := ""
	var gone []Object
	var why []string
	if exists && (s.Kind == Job || have.Kind != s.Kind) {
		gone = append(gone, Object{Kind: string(have.Kind), Name: have.Name, Service: name})
		why = append(why, "a Job runs again as a new one")
		if have.Kind != s.Kind {
			why[0] = fmt.Sprintf("it becomes a %s", s.Kind)
		}
	}
	if o, ok := b.observedService(name); ok && o.Headless != (s.Service.Spec != nil && s.Service.Spec.ClusterIP != nil && *s.Service.Spec.ClusterIP == "None") {
		gone = append(gone, o)
		why = append(why, "its Service's cluster IP cannot change in place")
	}
	txn := b.txnOf(a, exists)
	if len(gone) > 0 {
		var undo *engine.Op
		if txn != "" {
			undo = b.undoDelete(gone, name)
		}
		prev = b.deleteAndWait(a, Delete{Namespace: ns, Objects: gone}, strings.Join(why, "; "), "service:"+name, txn, undo)
	}
	objects := objs.forService(s, b.plan.Desired, applySetParent(b.plan.Project, ns))
	apply := &engine.Op{Kind: OpApply, Target: target(s.Kind, name), Detail: "server-side, field manager " + FieldManager, Payload: Apply{Objects: objects}}
	if txn != "" {
		apply.Txn, apply.Undo = txn, b.undoApply(objects, name, have, exists && have.Kind == s.Kind)
	}
	id := b.add(a, apply, prev)
	cond, detail := a.Ready, "until rolled out"
	if s.Kind == Job {
		cond, detail = engine.Completed, "until complete"
	}
	b.add(a, &engine.Op{Kind: engine.OpWait, Target: target(s.Kind, name), Condition: cond, Detail: detail, Txn: txn,
		Payload: Rollout{Project: b.plan.Project, Namespace: ns, Service: name, Kind: s.Kind, Name: name, Hash: s.Hash.Sum}}, id)
	return nil
}

// deployTxn is the one transaction of an atomic deploy.
const deployTxn = "deploy"

// txnOf is the transaction a's apply and rollout wait belong to, whose
// failure returns what the apply changed to its previous revision (restore.go):
// the deploy's, every service's at once, when the plan is atomic; a's own
// when a updates a workload that exists and its update rolls back on
// failure (deploy.update_config.failure_action rollback, stack's default
// as on Docker and Swarm); none otherwise (pause and continue leave a
// failed rollout as Kubernetes holds it, as does a first deploy).
func (b *opBuilder) txnOf(a *engine.Action, exists bool) string {
	switch {
	case b.plan.Atomic:
		return deployTxn
	case exists && (a.Update == nil || a.Update.FailureAction == engine.FailRollback):
		return "rollout " + a.Resource
	}
	return ""
}

// observedService is the observed Service named like service.
func (b *opBuilder) observedService(service string) (Object, bool) {
	for _, o := range b.cluster.Objects {
		if o.Kind == "Service" && o.Name == service {
			return o, true
		}
	}
	return Object{}, false
}

// volume deletes a removed volume's claims (down -v); a new one is made
// by the apply of the service that mounts it, or by its StatefulSet.
func (b *opBuilder) volume(a *engine.Action) {
	if a.Kind != engine.Remove || len(b.cluster.Claims[a.Name()]) == 0 {
		return
	}
	var objs []Object
	for _, n := range b.cluster.Claims[a.Name()] {
		objs = append(objs, Object{Kind: "PersistentVolumeClaim", Name: n})
	}
	b.deleteAndWait(a, Delete{Namespace: b.cluster.Namespace, Objects: objs}, "with its data", "volume:"+a.Name(), "", nil)
}

// deleteAndWait adds a deletion of del and a wait until its objects are
// gone, both in txn ("" for none), the deletion undone by undo; it returns
// the wait's ID.
func (b *opBuilder) deleteAndWait(a *engine.Action, del Delete, detail, tgt, txn string, undo *engine.Op) string {
	id := b.add(a, &engine.Op{Kind: OpDelete, ID: "delete " + tgt + " of " + a.Resource, Target: tgt, Detail: detail, Txn: txn, Undo: undo, Payload: del}, "")
	return b.add(a, &engine.Op{Kind: engine.OpWait, ID: "wait " + tgt + " gone of " + a.Resource, Target: tgt, Detail: "until gone", Txn: txn, Payload: del}, id)
}

func target(k Kind, name string) string { return strings.ToLower(string(k)) + ":" + name }

// observedCluster is what Observe read in Kubernetes terms, if o has it.
func observedCluster(o *engine.Observed) (*Cluster, bool) {
	if o == nil {
		return nil, false
	}
	c, ok := o.Driver.(*Cluster)
	return c, ok
}

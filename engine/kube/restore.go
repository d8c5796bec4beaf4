package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	"github.com/stack-deploy/stack/engine"
)

// Restore is the payload of an apply's undo: what returns the objects it
// changed to how Observe found them. Apply holds the objects as observed
// (their previous revision), Delete those the run created, and Wait the
// workloads whose previous revision must be rolled out again before the
// undo counts as done.
type Restore struct {
	Namespace string
	Apply     []any
	Delete    []Object
	Wait      []Rollout
}

// A failed rollout is undone as `kubectl rollout undo` undoes one, with
// server-side apply instead of a patch. kubectl copies the previous
// ReplicaSet's (ControllerRevision's) pod template into the workload; the
// driver has the workload as Observe read it, before this run changed
// anything, so its previous revision is that object: the fields manager
// stack had applied (client-go's Extract*), with the pod template as it
// ran, whole (edits of other managers included, which the failed apply
// took over). It is applied with FieldManager, forced, which also returns
// stack's field ownership to what it was. An object the run created is
// deleted; the namespace and claims are never (a claim holds data).

// undoApply is the undo of an apply of objects for service (nil when it
// has nothing to undo): each object Observe found is restored, each it did
// not find deleted, and have, the workload as it was, waited for.
func (b *opBuilder) undoApply(objects []any, service string, have Workload, exists bool) *engine.Op {
	r := Restore{Namespace: b.cluster.Namespace}
	var what []string
	for _, obj := range objects {
		kind, name := kindName(obj)
		switch kind {
		case "", "PersistentVolumeClaim":
			continue
		}
		raw, found := b.cluster.raw[kind+"/"+name]
		if kind == string(Job) || !b.observedObject(kind, name) {
			r.Delete = append(r.Delete, Object{Kind: kind, Name: name, Service: service})
			if isWorkload(kind) {
				what = append(what, strings.ToLower(kind)+" "+name+" deleted")
			}
			continue
		}
		prev, err := previous(raw)
		if !found || err != nil {
			// Unread, or unreadable managed fields: the undo cannot say
			// what was stack's; leaving the object as applied is safer
			// than a guess.
			continue
		}
		r.Apply = append(r.Apply, prev)
		if isWorkload(kind) && exists && string(have.Kind) == kind {
			r.Wait = append(r.Wait, Rollout{Project: b.plan.Project, Namespace: r.Namespace, Service: service, Kind: have.Kind, Name: have.Name, Hash: have.Hash})
			what = append(what, strings.ToLower(kind)+" "+name+" back to its previous revision")
		}
	}
	if len(r.Apply) == 0 && len(r.Delete) == 0 {
		return nil
	}
	return &engine.Op{Kind: OpApply, Target: "service:" + service, Detail: strings.Join(what, ", "), Payload: r}
}

// observedObject reports whether Observe found the object kind/name.
func (b *opBuilder) observedObject(kind, name string) bool {
	for _, o := range b.cluster.Objects {
		if o.Kind == kind && o.Name == name {
			return true
		}
	}
	return false
}

// undoDelete is the undo of a deletion of workloads this run replaces (a
// kind that changes): they are applied again as observed.
func (b *opBuilder) undoDelete(objs []Object, service string) *engine.Op {
	r := Restore{Namespace: b.cluster.Namespace}
	for _, o := range objs {
		raw, ok := b.cluster.raw[o.Kind+"/"+o.Name]
		if !ok || o.Kind == string(Job) {
			continue
		}
		if prev, err := previous(raw); err == nil {
			r.Apply = append(r.Apply, prev)
		}
	}
	if len(r.Apply) == 0 {
		return nil
	}
	return &engine.Op{Kind: OpApply, Target: "service:" + service, Detail: service + "'s previous objects applied again", Payload: r}
}

// previous is the apply configuration that returns obj, as observed, to
// what it was: stack's fields, and a workload's pod template whole.
func previous(obj any) (any, error) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		ac, err := appsv1ac.ExtractDeployment(o, FieldManager)
		if err != nil {
			return nil, err
		}
		if ac.Spec == nil {
			ac.WithSpec(appsv1ac.DeploymentSpec())
		}
		ac.Spec.Template, err = templateConfig(o.Spec.Template)
		return ac, err
	case *appsv1.StatefulSet:
		ac, err := appsv1ac.ExtractStatefulSet(o, FieldManager)
		if err != nil {
			return nil, err
		}
		if ac.Spec == nil {
			ac.WithSpec(appsv1ac.StatefulSetSpec())
		}
		ac.Spec.Template, err = templateConfig(o.Spec.Template)
		return ac, err
	case *appsv1.DaemonSet:
		ac, err := appsv1ac.ExtractDaemonSet(o, FieldManager)
		if err != nil {
			return nil, err
		}
		if ac.Spec == nil {
			ac.WithSpec(appsv1ac.DaemonSetSpec())
		}
		ac.Spec.Template, err = templateConfig(o.Spec.Template)
		return ac, err
	case *corev1.Service:
		return corev1ac.ExtractService(o, FieldManager)
	case *corev1.Secret:
		return corev1ac.ExtractSecret(o, FieldManager)
	case *corev1.ConfigMap:
		return corev1ac.ExtractConfigMap(o, FieldManager)
	}
	return nil, fmt.Errorf("restoring a %T: not an object the driver restores", obj)
}

// templateConfig is a pod template as an apply configuration: the two
// share their JSON form.
func templateConfig(t corev1.PodTemplateSpec) (*corev1ac.PodTemplateSpecApplyConfiguration, error) {
	data, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("encoding the previous pod template: %w", err)
	}
	ac := &corev1ac.PodTemplateSpecApplyConfiguration{}
	if err := json.Unmarshal(data, ac); err != nil {
		return nil, fmt.Errorf("decoding the previous pod template: %w", err)
	}
	return ac, nil
}

// restore carries out an undo: the previous objects applied, the created
// ones deleted and waited gone, the previous revisions waited rolled out.
func (x *executor) restore(ctx context.Context, r Restore, notes engine.Notes) error {
	for _, obj := range r.Apply {
		if err := x.apply(ctx, obj); err != nil {
			return err
		}
	}
	del := Delete{Namespace: r.Namespace, Objects: r.Delete}
	for _, o := range r.Delete {
		if err := x.delete(ctx, r.Namespace, o); err != nil {
			return err
		}
	}
	if len(r.Delete) > 0 {
		if err := x.waitGone(ctx, del, notes); err != nil {
			return err
		}
	}
	for _, w := range r.Wait {
		if err := x.waitRollout(ctx, w, notes); err != nil {
			return fmt.Errorf("rolling %s %s back: %w", w.Kind, w.Name, err)
		}
	}
	return nil
}

package kube

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"

	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	batchv1ac "k8s.io/client-go/applyconfigurations/batch/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	"github.com/stack-deploy/stack/engine"
)

// The ApplySet (KEP-3659) of a project: a parent Secret in its namespace
// names the set, and every object stack applies carries the set's id in
// LabelApplySetPartOf, so that stack, and kubectl apply --prune
// --applyset, can tell what left the manifest.
const (
	// ApplySetParent is the name of the parent Secret.
	ApplySetParent = "stack-applyset"
	// LabelApplySetID marks the parent with the set's id.
	LabelApplySetID = "applyset.kubernetes.io/id"
	// AnnotationApplySetTooling names the tool that manages the set.
	AnnotationApplySetTooling = "applyset.kubernetes.io/tooling"
	// AnnotationApplySetKinds lists the group-kinds of its members.
	AnnotationApplySetKinds = "applyset.kubernetes.io/contains-group-kinds"
	applySetTooling         = "stack/v1"
	applySetKinds           = "ConfigMap,DaemonSet.apps,Deployment.apps,Job.batch,PersistentVolumeClaim,Secret,Service,StatefulSet.apps"
)

// ApplySetID is the id of the ApplySet whose parent is the Secret
// ApplySetParent in ns, as KEP-3659 (and kubectl) make it:
// applyset-<base64url(sha256(<name>.<namespace>.<kind>.<group>))>-v1.
func ApplySetID(ns string) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s.%s.%s.%s", ApplySetParent, ns, "Secret", "")))
	return "applyset-" + base64.RawURLEncoding.EncodeToString(sum[:]) + "-v1"
}

// applySetParent is the parent Secret of project's set in ns.
func applySetParent(project, ns string) *corev1ac.SecretApplyConfiguration {
	return corev1ac.Secret(ApplySetParent, ns).
		WithLabels(map[string]string{engine.LabelProject: project, LabelManagedBy: FieldManager, LabelApplySetID: ApplySetID(ns)}).
		WithAnnotations(map[string]string{AnnotationApplySetTooling: applySetTooling, AnnotationApplySetKinds: applySetKinds})
}

// joinApplySet labels every object of o but the namespace as a member of
// the set in o's namespace.
func (o *Objects) joinApplySet() {
	if o.Namespace == nil || o.Namespace.Name == nil {
		return
	}
	l := map[string]string{LabelApplySetPartOf: ApplySetID(*o.Namespace.Name)}
	for _, obj := range o.List()[1:] {
		switch x := obj.(type) {
		case *corev1ac.ConfigMapApplyConfiguration:
			x.WithLabels(l)
		case *corev1ac.SecretApplyConfiguration:
			x.WithLabels(l)
		case *corev1ac.PersistentVolumeClaimApplyConfiguration:
			x.WithLabels(l)
		case *corev1ac.ServiceApplyConfiguration:
			x.WithLabels(l)
		case *appsv1ac.DeploymentApplyConfiguration:
			x.WithLabels(l)
		case *appsv1ac.StatefulSetApplyConfiguration:
			x.WithLabels(l)
		case *appsv1ac.DaemonSetApplyConfiguration:
			x.WithLabels(l)
		case *batchv1ac.JobApplyConfiguration:
			x.WithLabels(l)
		}
	}
}

// names lists the objects of o by kind/name.
func (o *Objects) names() map[string]bool {
	out := map[string]bool{}
	for _, obj := range o.List()[1:] {
		if k, n := kindName(obj); k != "" {
			out[k+"/"+n] = true
		}
	}
	return out
}

// kindName is an apply configuration's kind and name.
func kindName(obj any) (string, string) {
	switch x := obj.(type) {
	case *corev1ac.ConfigMapApplyConfiguration:
		return "ConfigMap", *x.Name
	case *corev1ac.SecretApplyConfiguration:
		return "Secret", *x.Name
	case *corev1ac.PersistentVolumeClaimApplyConfiguration:
		return "PersistentVolumeClaim", *x.Name
	case *corev1ac.ServiceApplyConfiguration:
		return "Service", *x.Name
	case *appsv1ac.DeploymentApplyConfiguration:
		return "Deployment", *x.Name
	case *appsv1ac.StatefulSetApplyConfiguration:
		return "StatefulSet", *x.Name
	case *appsv1ac.DaemonSetApplyConfiguration:
		return "DaemonSet", *x.Name
	case *batchv1ac.JobApplyConfiguration:
		return "Job", *x.Name
	}
	return "", ""
}

// prune adds to the plan a removal of each object of the project that
// what stays after the plan no longer has: a secret or config map no
// service mounts, a Service no longer made (<name>-published once nothing
// is published), and, when every service goes (down), the set's parent.
// Workloads go with their service's action, claims only with down -v, and
// an orphan service's objects stay with it.
func (b *opBuilder) prune() error {
	keep := map[string]bool{}
	remaining := false
	services := map[string]*engine.Action{}
	for _, a := range b.plan.Actions {
		if a.Type() == "service" {
			services[a.Name()] = a
			remaining = remaining || a.Kind != engine.Remove
		}
	}
	if remaining {
		objs, err := b.desired()
		if err != nil {
			return err
		}
		keep = objs.names()
		keep["Secret/"+ApplySetParent] = true
	}
	var needs []string
	for _, id := range b.last {
		needs = append(needs, id)
	}
	sort.Strings(needs)
	for _, o := range b.cluster.Objects {
		a := services[o.Service]
		switch {
		case keep[o.Kind+"/"+o.Name], o.Kind == "PersistentVolumeClaim", isWorkload(o.Kind), o.Gateway:
			continue // the gateway's go with its action
		case o.Service != "" && (a == nil || a.Kind == engine.Remove || a.Orphan):
			continue // its service's action removes it, or it stays with its orphan
		}
		resource := strings.ToLower(o.Kind) + ":" + o.Name
		if b.plan.Action(resource) != nil {
			continue
		}
		reason := "pruned: no longer in the manifest"
		if !remaining {
			reason = "the services that use it are removed"
		}
		pa := &engine.Action{Resource: resource, Kind: engine.Remove, Reason: reason}
		b.plan.Actions = append(b.plan.Actions, pa)
		del := Delete{Namespace: b.cluster.Namespace, Objects: []Object{o}}
		id := b.g.Add(&engine.Op{Kind: OpDelete, Target: resource, Action: resource, Detail: "ApplySet " + ApplySetID(b.cluster.Namespace), Needs: needs, Payload: del})
		b.g.Add(&engine.Op{Kind: engine.OpWait, Target: resource, Action: resource, Detail: "until gone", Needs: []string{id}, Payload: del})
	}
	return nil
}

func isWorkload(kind string) bool {
	switch Kind(kind) {
	case Deployment, StatefulSet, DaemonSet, Job:
		return true
	}
	return false
}

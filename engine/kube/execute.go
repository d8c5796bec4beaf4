package kube

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	batchv1ac "k8s.io/client-go/applyconfigurations/batch/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/stack-deploy/stack/engine"
)

// pollEvery is how often a wait reads the cluster again; defaultWait
// bounds a wait when the run sets no timeout.
const (
	pollEvery   = 500 * time.Millisecond
	defaultWait = 10 * time.Minute
)

// Begin opens a run: the executor makes each operation's call.
func (d *Driver) Begin(_ context.Context, _ *engine.Plan, o engine.ApplyOptions) (engine.Executor, error) {
	wait := o.Timeout
	if wait <= 0 {
		wait = defaultWait
	}
	return &executor{client: d.client, wait: wait}, nil
}

type executor struct {
	client kubernetes.Interface
	wait   time.Duration
}

func (x *executor) Close() error { return nil }

// Execute makes op's call: apply, delete, restart or scale, or a wait.
func (x *executor) Execute(ctx context.Context, op *engine.Op, notes engine.Notes) error {
	switch p := op.Payload.(type) {
	case Apply:
		for _, obj := range p.Objects {
			if err := x.apply(ctx, obj); err != nil {
				return err
			}
		}
		return nil
	case Delete:
		if op.Kind == engine.OpWait {
			return x.waitGone(ctx, p, notes)
		}
		for _, o := range p.Objects {
			if err := x.delete(ctx, p.Namespace, o); err != nil {
				return err
			}
		}
		return nil
	case Restore:
		return x.restore(ctx, p, notes)
	case Rollout:
		switch op.Kind {
		case engine.OpWait:
			return x.waitRollout(ctx, p, notes)
		case OpRestart:
			return x.restart(ctx, p)
		case OpScale:
			return x.scale(ctx, p)
		}
	}
	return fmt.Errorf("operation %q: no call for a %T", op.ID, op.Payload)
}

// apply server-side applies one object with field manager stack, taking
// over fields another manager set (kubectl edit): the manifest decides.
func (x *executor) apply(ctx context.Context, obj any) error {
	opts := metav1.ApplyOptions{FieldManager: FieldManager, Force: true}
	core, apps, batch := x.client.CoreV1(), x.client.AppsV1(), x.client.BatchV1()
	var err error
	var what string
	switch o := obj.(type) {
	case *corev1ac.NamespaceApplyConfiguration:
		what = "namespace " + *o.Name
		_, err = core.Namespaces().Apply(ctx, o, opts)
	case *corev1ac.ConfigMapApplyConfiguration:
		what = "config map " + *o.Name
		_, err = core.ConfigMaps(*o.Namespace).Apply(ctx, o, opts)
	case *corev1ac.SecretApplyConfiguration:
		what = "secret " + *o.Name
		_, err = core.Secrets(*o.Namespace).Apply(ctx, o, opts)
	case *corev1ac.PersistentVolumeClaimApplyConfiguration:
		what = "persistent volume claim " + *o.Name
		_, err = core.PersistentVolumeClaims(*o.Namespace).Apply(ctx, o, opts)
	case *corev1ac.ServiceApplyConfiguration:
		what = "service " + *o.Name
		_, err = core.Services(*o.Namespace).Apply(ctx, o, opts)
	case *appsv1ac.DeploymentApplyConfiguration:
		what = "deployment " + *o.Name
		_, err = apps.Deployments(*o.Namespace).Apply(ctx, o, opts)
	case *appsv1ac.StatefulSetApplyConfiguration:
		what = "statefulset " + *o.Name
		_, err = apps.StatefulSets(*o.Namespace).Apply(ctx, o, opts)
	case *appsv1ac.DaemonSetApplyConfiguration:
		what = "daemonset " + *o.Name
		_, err = apps.DaemonSets(*o.Namespace).Apply(ctx, o, opts)
	case *batchv1ac.JobApplyConfiguration:
		what = "job " + *o.Name
		_, err = batch.Jobs(*o.Namespace).Apply(ctx, o, opts)
	default:
		return fmt.Errorf("applying a %T: not an object the driver applies", obj)
	}
	if err != nil {
		return fmt.Errorf("applying %s: %w", what, err)
	}
	return nil
}

// delete deletes one object, its dependents first (pods before their
// workload); one already gone is fine.
func (x *executor) delete(ctx context.Context, ns string, o Object) error {
	fg := metav1.DeletePropagationForeground
	opts := metav1.DeleteOptions{PropagationPolicy: &fg}
	core, apps, batch := x.client.CoreV1(), x.client.AppsV1(), x.client.BatchV1()
	var err error
	switch o.Kind {
	case "Deployment":
		err = apps.Deployments(ns).Delete(ctx, o.Name, opts)
	case "StatefulSet":
		err = apps.StatefulSets(ns).Delete(ctx, o.Name, opts)
	case "DaemonSet":
		err = apps.DaemonSets(ns).Delete(ctx, o.Name, opts)
	case "Job":
		err = batch.Jobs(ns).Delete(ctx, o.Name, opts)
	case "Service":
		err = core.Services(ns).Delete(ctx, o.Name, opts)
	case "PersistentVolumeClaim":
		err = core.PersistentVolumeClaims(ns).Delete(ctx, o.Name, opts)
	case "Secret":
		err = core.Secrets(ns).Delete(ctx, o.Name, opts)
	case "ConfigMap":
		err = core.ConfigMaps(ns).Delete(ctx, o.Name, opts)
	default:
		return fmt.Errorf("deleting %s %s: not a kind the driver deletes", o.Kind, o.Name)
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting %s %s: %w", o.Kind, o.Name, err)
	}
	return nil
}

// get reads one object's existence (and for a wait, its value).
func (x *executor) get(ctx context.Context, ns string, o Object) (any, error) {
	core, apps, batch := x.client.CoreV1(), x.client.AppsV1(), x.client.BatchV1()
	g := metav1.GetOptions{}
	switch o.Kind {
	case "Deployment":
		return apps.Deployments(ns).Get(ctx, o.Name, g)
	case "StatefulSet":
		return apps.StatefulSets(ns).Get(ctx, o.Name, g)
	case "DaemonSet":
		return apps.DaemonSets(ns).Get(ctx, o.Name, g)
	case "Job":
		return batch.Jobs(ns).Get(ctx, o.Name, g)
	case "Service":
		return core.Services(ns).Get(ctx, o.Name, g)
	case "PersistentVolumeClaim":
		return core.PersistentVolumeClaims(ns).Get(ctx, o.Name, g)
	case "Secret":
		return core.Secrets(ns).Get(ctx, o.Name, g)
	case "ConfigMap":
		return core.ConfigMaps(ns).Get(ctx, o.Name, g)
	}
	return nil, fmt.Errorf("reading %s %s: not a kind the driver reads", o.Kind, o.Name)
}

// restart sets the pod template's restartedAt annotation, as `kubectl
// rollout restart` does, under a field manager of its own so that the next
// apply leaves it.
func (x *executor) restart(ctx context.Context, r Rollout) error {
	patch := fmt.Appendf(nil, `{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":%q}}}}}`, time.Now().Format(time.RFC3339))
	opts := metav1.PatchOptions{FieldManager: FieldManager + "-restart"}
	var err error
	switch r.Kind {
	case Deployment:
		_, err = x.client.AppsV1().Deployments(r.Namespace).Patch(ctx, r.Name, types.StrategicMergePatchType, patch, opts)
	case StatefulSet:
		_, err = x.client.AppsV1().StatefulSets(r.Namespace).Patch(ctx, r.Name, types.StrategicMergePatchType, patch, opts)
	case DaemonSet:
		_, err = x.client.AppsV1().DaemonSets(r.Namespace).Patch(ctx, r.Name, types.StrategicMergePatchType, patch, opts)
	default:
		return fmt.Errorf("restarting %s %s: %w: a Job runs once", r.Kind, r.Name, engine.ErrUnsupported)
	}
	if err != nil {
		return fmt.Errorf("restarting %s %s: %w", r.Kind, r.Name, err)
	}
	return nil
}

// scale sets a workload's replicas through its scale subresource.
func (x *executor) scale(ctx context.Context, r Rollout) error {
	patch := fmt.Appendf(nil, `{"spec":{"replicas":%d}}`, r.Replicas)
	opts := metav1.PatchOptions{FieldManager: FieldManager}
	var err error
	switch r.Kind {
	case Deployment:
		_, err = x.client.AppsV1().Deployments(r.Namespace).Patch(ctx, r.Name, types.MergePatchType, patch, opts, "scale")
	case StatefulSet:
		_, err = x.client.AppsV1().StatefulSets(r.Namespace).Patch(ctx, r.Name, types.MergePatchType, patch, opts, "scale")
	default:
		return fmt.Errorf("scaling %s %s: %w: it has no replica count", r.Kind, r.Name, engine.ErrUnsupported)
	}
	if err != nil {
		return fmt.Errorf("scaling %s %s: %w", r.Kind, r.Name, err)
	}
	return nil
}

// errTimeout ends a wait that ran out of time.
var errTimeout = errors.New("timed out")

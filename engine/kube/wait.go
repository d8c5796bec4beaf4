package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stack-deploy/stack/engine"
)

// poll calls check every pollEvery until it is done or fails, for at most
// x.wait (and ctx).
func (x *executor) poll(parent context.Context, what string, check func(ctx context.Context) (bool, error)) error {
	ctx, cancel := context.WithTimeout(parent, x.wait)
	defer cancel()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	timedOut := func() bool { return ctx.Err() == context.DeadlineExceeded && parent.Err() == nil }
	deadline, _ := ctx.Deadline()
	for {
		done, err := check(ctx)
		switch {
		case err != nil && parent.Err() == nil && time.Until(deadline) < 2*pollEvery:
			// the time ran out during a call, or the client's rate
			// limiter saw it would ("would exceed context deadline"):
			// a timeout, not the call's failure
			<-ctx.Done()
		case err != nil || done:
			return err
		}
		select {
		case <-ctx.Done():
			if timedOut() {
				return fmt.Errorf("waiting for %s: %w after %s", what, errTimeout, x.wait)
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// waitRollout waits until r's workload has rolled out as `kubectl rollout
// status` decides it (a Job: until it completes). A pod of the new
// template that cannot run (ImagePullBackOff, CrashLoopBackOff,
// unschedulable) or a failed Job ends the wait at once, with the pod's own
// reason.
func (x *executor) waitRollout(ctx context.Context, r Rollout, notes engine.Notes) error {
	what := fmt.Sprintf("%s %s", r.Kind, r.Name)
	last := ""
	err := x.poll(ctx, what+" to roll out", func(ctx context.Context) (bool, error) {
		obj, err := x.get(ctx, r.Namespace, Object{Kind: string(r.Kind), Name: r.Name})
		if err != nil {
			return false, fmt.Errorf("reading %s: %w", what, err)
		}
		msg, done, err := rolloutStatus(obj)
		if err != nil {
			return false, err
		}
		if msg != last && !done {
			notes.Status(msg)
			last = msg
		}
		// Even once rolled out: a pod already seen crash looping (one
		// without a readiness probe is ready the instant it runs) fails it.
		selector := engine.LabelProject + "=" + r.Project + "," + engine.LabelService + "=" + r.Service
		if r.Selector != "" {
			selector = r.Selector
		}
		pods, err := x.client.CoreV1().Pods(r.Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return false, fmt.Errorf("listing the pods of %s: %w", what, err)
		}
		if why := podTrouble(pods.Items, r.Service, r.Hash); why != "" {
			return false, fmt.Errorf("%s cannot roll out: %s", what, why)
		}
		return done, nil
	})
	if errors.Is(err, errTimeout) {
		if why := x.notReady(ctx, r); why != "" {
			err = fmt.Errorf("%w: %s", err, why)
		}
	}
	return err
}

// notReady says why a pod of r's template is not ready when a wait ran
// out of time: the kubelet's last Unhealthy event of it ("Readiness probe
// failed: ..."), else its Ready condition's reason; empty when it cannot
// tell.
func (x *executor) notReady(ctx context.Context, r Rollout) string {
	pods, err := x.client.CoreV1().Pods(r.Namespace).List(ctx, metav1.ListOptions{
		LabelSelector: engine.LabelProject + "=" + r.Project + "," + engine.LabelService + "=" + r.Service})
	if err != nil {
		return ""
	}
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil || r.Hash != "" && p.Annotations[engine.LabelConfigHash] != r.Hash {
			continue
		}
		for _, c := range p.Status.Conditions {
			if c.Type != corev1.PodReady || c.Status == corev1.ConditionTrue {
				continue
			}
			why := strings.TrimSpace(c.Reason + ": " + c.Message)
			if ev := x.lastUnhealthy(ctx, p); ev != "" {
				why = ev
			}
			return fmt.Sprintf("pod %s: not ready: %s", p.Name, why)
		}
	}
	return ""
}

// lastUnhealthy is the message of the latest Unhealthy event of pod p.
func (x *executor) lastUnhealthy(ctx context.Context, p corev1.Pod) string {
	evs, err := x.client.CoreV1().Events(p.Namespace).List(ctx, metav1.ListOptions{
		FieldSelector: "involvedObject.name=" + p.Name + ",reason=Unhealthy"})
	if err != nil || len(evs.Items) == 0 {
		return ""
	}
	last := evs.Items[0]
	for _, e := range evs.Items[1:] {
		if e.LastTimestamp.After(last.LastTimestamp.Time) {
			last = e
		}
	}
	return strings.TrimSuffix(strings.TrimSpace(last.Message), ":") // "Readiness probe failed:" when the probe printed nothing
}

// rolloutStatus dispatches on the workload's kind.
func rolloutStatus(obj any) (string, bool, error) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return deploymentStatus(o)
	case *appsv1.StatefulSet:
		return statefulSetStatus(o)
	case *appsv1.DaemonSet:
		return daemonSetStatus(o)
	case *batchv1.Job:
		return jobStatus(o)
	}
	return "", false, fmt.Errorf("waiting for a %T: not a workload", obj)
}

// waitGone waits until every object of del is gone.
func (x *executor) waitGone(ctx context.Context, del Delete, notes engine.Notes) error {
	return x.poll(ctx, "the deletion", func(ctx context.Context) (bool, error) {
		left := 0
		for _, o := range del.Objects {
			_, err := x.get(ctx, del.Namespace, o)
			switch {
			case apierrors.IsNotFound(err):
			case err != nil:
				return false, err
			default:
				left++
			}
		}
		if left > 0 {
			notes.Status(fmt.Sprintf("%d of %d objects left", left, len(del.Objects)))
		}
		return left == 0, nil
	})
}

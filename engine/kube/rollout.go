package kube

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/stack-deploy/stack/engine"
)

// The rollout status of each workload kind, as `kubectl rollout status`
// decides it (k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go):
// a message for people, done, or an error when the rollout cannot finish.

// deploymentStatus is kubectl's DeploymentStatusViewer.
func deploymentStatus(d *appsv1.Deployment) (string, bool, error) {
	if d.Generation > d.Status.ObservedGeneration {
		return "waiting for the deployment's spec update to be observed", false, nil
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded" {
			return "", false, fmt.Errorf("deployment %q exceeded its progress deadline: %s", d.Name, c.Message)
		}
	}
	want := specReplicas(d.Spec.Replicas)
	st := d.Status
	switch {
	case int(st.UpdatedReplicas) < want:
		return fmt.Sprintf("%d of %d new replicas updated", st.UpdatedReplicas, want), false, nil
	case st.Replicas > st.UpdatedReplicas:
		return fmt.Sprintf("%d old replicas pending termination", st.Replicas-st.UpdatedReplicas), false, nil
	case st.AvailableReplicas < st.UpdatedReplicas:
		return fmt.Sprintf("%d of %d updated replicas available", st.AvailableReplicas, st.UpdatedReplicas), false, nil
	}
	return fmt.Sprintf("%d/%d ready", st.ReadyReplicas, want), true, nil
}

// statefulSetStatus is kubectl's StatefulSetStatusViewer (its updates are
// RollingUpdate, without a partition, as Map makes them).
func statefulSetStatus(s *appsv1.StatefulSet) (string, bool, error) {
	if s.Status.ObservedGeneration == 0 || s.Generation > s.Status.ObservedGeneration {
		return "waiting for the statefulset's spec update to be observed", false, nil
	}
	want := specReplicas(s.Spec.Replicas)
	if int(s.Status.ReadyReplicas) < want {
		return fmt.Sprintf("%d of %d pods ready", s.Status.ReadyReplicas, want), false, nil
	}
	if ru := s.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		if int(s.Status.UpdatedReplicas) < want-int(*ru.Partition) {
			return fmt.Sprintf("%d of %d new pods updated", s.Status.UpdatedReplicas, want-int(*ru.Partition)), false, nil
		}
		return fmt.Sprintf("%d/%d ready", s.Status.ReadyReplicas, want), true, nil
	}
	if s.Status.UpdateRevision != s.Status.CurrentRevision {
		return fmt.Sprintf("%d pods at the new revision", s.Status.UpdatedReplicas), false, nil
	}
	return fmt.Sprintf("%d/%d ready", s.Status.ReadyReplicas, want), true, nil
}

// daemonSetStatus is kubectl's DaemonSetStatusViewer.
func daemonSetStatus(d *appsv1.DaemonSet) (string, bool, error) {
	if d.Generation > d.Status.ObservedGeneration {
		return "waiting for the daemonset's spec update to be observed", false, nil
	}
	st := d.Status
	if st.UpdatedNumberScheduled < st.DesiredNumberScheduled {
		return fmt.Sprintf("%d of %d new pods updated", st.UpdatedNumberScheduled, st.DesiredNumberScheduled), false, nil
	}
	if st.NumberAvailable < st.DesiredNumberScheduled {
		return fmt.Sprintf("%d of %d updated pods available", st.NumberAvailable, st.DesiredNumberScheduled), false, nil
	}
	return fmt.Sprintf("%d/%d ready", st.NumberReady, st.DesiredNumberScheduled), true, nil
}

// jobStatus is `kubectl wait --for=condition=Complete`, failing at once on
// the Failed condition.
func jobStatus(j *batchv1.Job) (string, bool, error) {
	if why := jobFailure(j); why != "" {
		return "", false, fmt.Errorf("job %q failed: %s", j.Name, why)
	}
	for _, c := range j.Status.Conditions {
		if c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue {
			return fmt.Sprintf("%d completed", j.Status.Succeeded), true, nil
		}
	}
	return fmt.Sprintf("%d running, %d completed", j.Status.Active, j.Status.Succeeded), false, nil
}

// jobFailure says why a Job failed; empty while it has not.
func jobFailure(j *batchv1.Job) string {
	for _, c := range j.Status.Conditions {
		if c.Type == batchv1.JobFailed && c.Status == corev1.ConditionTrue {
			return strings.TrimSpace(c.Reason + ": " + c.Message)
		}
	}
	return ""
}

// fatalWaiting are the reasons a container waits that no amount of waiting
// puts right: the rollout ends at once with the pod's own reason.
var fatalWaiting = map[string]bool{
	"ImagePullBackOff":           true,
	"ErrImagePull":               false, // retried: it becomes ImagePullBackOff
	"InvalidImageName":           true,
	"CrashLoopBackOff":           true,
	"CreateContainerConfigError": true,
	"CreateContainerError":       true,
	"RunContainerError":          true,
}

// podTrouble says why pods of service made from template hash cannot run:
// a container waiting for a reason in fatalWaiting, or a pod the scheduler
// cannot place; empty when none is stuck.
func podTrouble(pods []corev1.Pod, service, hash string) string {
	for _, p := range pods {
		if p.Labels[engine.LabelService] != service || p.DeletionTimestamp != nil || hash != "" && p.Annotations[engine.LabelConfigHash] != hash {
			continue
		}
		for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
			if w := cs.State.Waiting; w != nil && fatalWaiting[w.Reason] {
				return fmt.Sprintf("pod %s: %s: %s", p.Name, w.Reason, lastLine(w.Message, cs))
			}
		}
		for _, c := range p.Status.Conditions {
			// A claim not bound yet ("unbound immediate
			// PersistentVolumeClaims"), or not in the scheduler's cache yet
			// (`persistentvolumeclaim "data-redis-0" not found`, seen when
			// a StatefulSet creates the claim and the pod together): the
			// binder and the scheduler's next try put it right.
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable && !strings.Contains(strings.ToLower(c.Message), "persistentvolumeclaim") {
				return fmt.Sprintf("pod %s: %s: %s", p.Name, c.Reason, c.Message)
			}
		}
	}
	return ""
}

// lastLine is the waiting message, or for a crash loop how the last run
// ended.
func lastLine(msg string, cs corev1.ContainerStatus) string {
	if t := cs.LastTerminationState.Terminated; t != nil && cs.State.Waiting.Reason == "CrashLoopBackOff" {
		return fmt.Sprintf("exited with code %d (%s), %d restarts", t.ExitCode, t.Reason, cs.RestartCount)
	}
	return msg
}

// podCrashing says why pods of service made from template hash keep
// failing between two looks: a container that is not ready and has
// restarted after exiting with a code other than 0 (it may be running
// again, or waiting, at this instant). Observe reads it with podTrouble: a
// plan must not take a crash loop for a healthy service.
func podCrashing(pods []corev1.Pod, service, hash string) string {
	for _, p := range pods {
		if p.Labels[engine.LabelService] != service || p.DeletionTimestamp != nil || hash != "" && p.Annotations[engine.LabelConfigHash] != hash {
			continue
		}
		for _, cs := range p.Status.ContainerStatuses {
			if t := cs.LastTerminationState.Terminated; t != nil && t.ExitCode != 0 && !cs.Ready && cs.RestartCount > 0 {
				return fmt.Sprintf("pod %s: restarted %d times, last exited with code %d (%s)", p.Name, cs.RestartCount, t.ExitCode, t.Reason)
			}
		}
	}
	return ""
}

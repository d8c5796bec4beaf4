package kube

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stack-deploy/stack/engine"
)

// TestDeploymentStatus: a Deployment's rollout is done as `kubectl rollout
// status` decides it.
func TestDeploymentStatus(t *testing.T) {
	three := int32(3)
	dep := func(gen, observed int64, st appsv1.DeploymentStatus) *appsv1.Deployment {
		return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Generation: gen}, Spec: appsv1.DeploymentSpec{Replicas: &three},
			Status: func() appsv1.DeploymentStatus { st.ObservedGeneration = observed; return st }()}
	}
	tests := []struct {
		name string
		d    *appsv1.Deployment
		done bool
		msg  string
		err  string
	}{
		{"spec not observed", dep(2, 1, appsv1.DeploymentStatus{UpdatedReplicas: 3, Replicas: 3, AvailableReplicas: 3}), false, "observed", ""},
		{"updating", dep(2, 2, appsv1.DeploymentStatus{UpdatedReplicas: 1, Replicas: 3}), false, "1 of 3 new replicas updated", ""},
		{"old pending", dep(2, 2, appsv1.DeploymentStatus{UpdatedReplicas: 3, Replicas: 4}), false, "1 old replicas pending termination", ""},
		{"not available", dep(2, 2, appsv1.DeploymentStatus{UpdatedReplicas: 3, Replicas: 3, AvailableReplicas: 2}), false, "2 of 3 updated replicas available", ""},
		{"done", dep(2, 2, appsv1.DeploymentStatus{UpdatedReplicas: 3, Replicas: 3, AvailableReplicas: 3, ReadyReplicas: 3}), true, "3/3 ready", ""},
		{"deadline", dep(2, 2, appsv1.DeploymentStatus{Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Reason: "ProgressDeadlineExceeded", Message: "timed out"}}}), false, "", "exceeded its progress deadline"},
	}
	for _, tt := range tests {
		msg, done, err := deploymentStatus(tt.d)
		if done != tt.done || !strings.Contains(msg, tt.msg) || (tt.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: %q, %v, %v", tt.name, msg, done, err)
		}
	}
}

// TestStatefulSetAndJobStatus: a StatefulSet waits for its revision, a Job
// for Complete, and a failed Job fails.
func TestStatefulSetAndJobStatus(t *testing.T) {
	one := int32(1)
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Generation: 1}, Spec: appsv1.StatefulSetSpec{Replicas: &one},
		Status: appsv1.StatefulSetStatus{ObservedGeneration: 1, ReadyReplicas: 1, CurrentRevision: "a", UpdateRevision: "b"}}
	if _, done, _ := statefulSetStatus(sts); done {
		t.Error("a StatefulSet between revisions is done")
	}
	sts.Status.CurrentRevision = "b"
	if _, done, _ := statefulSetStatus(sts); !done {
		t.Error("a StatefulSet at its revision, ready, is not done")
	}
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "migrate"}}
	if _, done, err := jobStatus(job); done || err != nil {
		t.Errorf("a running Job: %v, %v", done, err)
	}
	job.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", Message: "Job has reached the specified backoff limit"}}
	if _, _, err := jobStatus(job); err == nil || !strings.Contains(err.Error(), "BackoffLimitExceeded") {
		t.Errorf("a failed Job: %v", err)
	}
	job.Status.Conditions = []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}
	if _, done, err := jobStatus(job); !done || err != nil {
		t.Errorf("a complete Job: %v, %v", done, err)
	}
}

// TestPodTrouble: only pods of the current template count, and only
// reasons waiting cannot cure.
func TestPodTrouble(t *testing.T) {
	pod := func(hash, reason string) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-1", Labels: map[string]string{engine.LabelService: "web"}, Annotations: map[string]string{engine.LabelConfigHash: hash}},
			Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: "back-off pulling"}}}}}}
	}
	if got := podTrouble([]corev1.Pod{pod("new", "ImagePullBackOff")}, "web", "new"); !strings.Contains(got, "ImagePullBackOff: back-off pulling") {
		t.Errorf("ImagePullBackOff: %q", got)
	}
	if got := podTrouble([]corev1.Pod{pod("old", "ImagePullBackOff")}, "web", "new"); got != "" {
		t.Errorf("an old pod's trouble: %q", got)
	}
	if got := podTrouble([]corev1.Pod{pod("new", "ContainerCreating"), pod("new", "ErrImagePull")}, "web", "new"); got != "" {
		t.Errorf("a pod on its way: %q", got)
	}
	unschedulable := func(msg string) corev1.Pod {
		p := pod("new", "ContainerCreating")
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: msg}}
		return p
	}
	for _, msg := range []string{
		`0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/1 nodes are available`,
		`0/1 nodes are available: persistentvolumeclaim "data-redis-0" not found. not found`, // CI, 2026-12-07
	} {
		if got := podTrouble([]corev1.Pod{unschedulable(msg)}, "web", "new"); got != "" {
			t.Errorf("a pod waiting for its claim (%s): %q", msg, got)
		}
	}
	if got := podTrouble([]corev1.Pod{unschedulable("0/1 nodes are available: 1 Insufficient memory.")}, "web", "new"); !strings.Contains(got, "Insufficient memory") {
		t.Errorf("a pod no node can take: %q", got)
	}
}

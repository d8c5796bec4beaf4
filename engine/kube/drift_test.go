package kube

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
)

// TestDrift: a field stack applies that an Update of another manager now
// holds is drift, naming the field and the manager; a field stack never
// sets, one stack still holds (the same value written again), and the
// controllers' fields are not.
func TestDrift(t *testing.T) {
	want, err := fieldSet(appsv1ac.Deployment("web", "shop").WithSpec(appsv1ac.DeploymentSpec().WithReplicas(1).
		WithTemplate(corev1ac.PodTemplateSpec().WithSpec(corev1ac.PodSpec().WithContainers(corev1ac.Container().WithName("web").
			WithEnv(corev1ac.EnvVar().WithName("GREETING").WithValue("one")))))))
	if err != nil {
		t.Fatal(err)
	}
	entry := func(manager string, op metav1.ManagedFieldsOperationType, fields string) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: manager, Operation: op, FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(fields)}
	}
	const env = `{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{"f:env":{"k:{\"name\":\"GREETING\"}":{"f:value":{}}}}}}}}}`
	const stackAll = `{"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:name":{},"f:env":{"k:{\"name\":\"GREETING\"}":{".":{},"f:name":{},"f:value":{}}}}}}}}}`
	const stackNoEnv = `{"f:spec":{"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:name":{}}}}}}}`
	const restart = `{"f:spec":{"f:template":{"f:metadata":{"f:annotations":{"f:kubectl.kubernetes.io/restartedAt":{}}}}}}`
	const replicas = `{"f:spec":{"f:replicas":{}}}`
	for _, tt := range []struct {
		name    string
		managed []metav1.ManagedFieldsEntry
		want    string
	}{
		{"applied", []metav1.ManagedFieldsEntry{entry("stack", "Apply", stackAll)}, ""},
		{"edited", []metav1.ManagedFieldsEntry{entry("stack", "Apply", stackNoEnv), entry("kubectl-edit", "Update", env)},
			`spec.template.spec.containers[name="web"].env[name="GREETING"].value edited outside stack (manager kubectl-edit)`},
		{"scaled", []metav1.ManagedFieldsEntry{entry("stack", "Apply", stackNoEnv), entry("kubectl", "Update", replicas)},
			`spec.replicas edited outside stack (manager kubectl)`},
		{"same value written again", []metav1.ManagedFieldsEntry{entry("stack", "Apply", stackAll), entry("kubectl-edit", "Update", env)}, ""},
		{"rollout restart", []metav1.ManagedFieldsEntry{entry("stack", "Apply", stackAll), entry("kubectl-rollout", "Update", restart)}, ""},
		{"autoscaler", []metav1.ManagedFieldsEntry{entry("stack", "Apply", stackNoEnv), entry("kube-controller-manager", "Update", replicas)}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := drift(tt.managed, want)
			if got != tt.want {
				t.Errorf("drift:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// BenchmarkDriftFieldSet: the field set of one Deployment as mapped, what
// a plan computes per object once some object has another manager's
// fields (the schema is parsed once, on the first: reported as
// converter-ms).
func BenchmarkDriftFieldSet(b *testing.B) {
	obj := appsv1ac.Deployment("web", "shop").WithSpec(appsv1ac.DeploymentSpec().WithReplicas(1).
		WithTemplate(corev1ac.PodTemplateSpec().WithSpec(corev1ac.PodSpec().WithContainers(corev1ac.Container().WithName("web").
			WithEnv(corev1ac.EnvVar().WithName("GREETING").WithValue("one"))))))
	if _, err := fieldSet(obj); err != nil { // parses the schema
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := fieldSet(obj); err != nil {
			b.Fatal(err)
		}
	}
}

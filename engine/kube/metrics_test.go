package kube

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"

	"github.com/stack-deploy/stack/engine"
)

// TestSamples: a pod's metrics become docker stats' figures: CPU in
// percent of one CPU, memory its working set against its limit, else the
// node's allocatable memory; a pod without figures yet is a sample of
// nothing; stopped pods only with All; other services left out.
func TestSamples(t *testing.T) {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{
		corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourceCPU: resource.MustParse("4")}}}
	d, err := New(WithClient(fake.NewClientset(node)))
	if err != nil {
		t.Fatal(err)
	}
	pod := func(name, svc string, phase corev1.PodPhase, limits corev1.ResourceList) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name), Labels: map[string]string{engine.LabelService: svc}},
			Spec:   corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: svc, Resources: corev1.ResourceRequirements{Limits: limits}}}},
			Status: corev1.PodStatus{Phase: phase}}
	}
	pods := []corev1.Pod{
		pod("web-b", "web", corev1.PodRunning, corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi"), corev1.ResourceCPU: resource.MustParse("500m")}),
		pod("web-a", "web", corev1.PodRunning, nil),
		pod("web-c", "web", corev1.PodSucceeded, nil),
		pod("db-a", "db", corev1.PodRunning, nil),
	}
	usage := func(name, cpu, mem string) metricsv1beta1.PodMetrics {
		return metricsv1beta1.PodMetrics{ObjectMeta: metav1.ObjectMeta{Name: name}, Containers: []metricsv1beta1.ContainerMetrics{{
			Usage: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}}}}
	}
	metrics := []metricsv1beta1.PodMetrics{usage("web-b", "250m", "128Mi"), usage("db-a", "1", "1Gi")}

	got := d.samples(context.Background(), pods, metrics, engine.StatsOptions{Services: []string{"web"}})
	if len(got) != 2 || got[0].Container.Name != "web-a" || got[1].Container.Name != "web-b" {
		t.Fatalf("samples of web: %+v, want web-a then web-b (web-c stopped, db not asked for)", got)
	}
	a, b := got[0], got[1]
	if a.CPUPercent != 0 || a.MemoryUsage != 0 || a.MemoryLimited || a.MemoryLimit != 8<<30 || a.CPUs != 4 || a.Node != "n1" {
		t.Errorf("web-a (no figures yet, no limits): %+v, want nothing used of the node's 8Gi and 4 CPUs", a)
	}
	if b.CPUPercent != 25 || b.MemoryUsage != 128<<20 || !b.MemoryLimited || b.MemoryLimit != 256<<20 || b.CPULimit != 0.5 || b.MemoryPercent() != 50 {
		t.Errorf("web-b: %+v, want 25%% CPU of a 0.5 limit, 128Mi of 256Mi", b)
	}
	all := d.samples(context.Background(), pods, metrics, engine.StatsOptions{All: true})
	if len(all) != 4 {
		t.Errorf("samples with All: %d, want the 4 pods, the stopped one too", len(all))
	}
}

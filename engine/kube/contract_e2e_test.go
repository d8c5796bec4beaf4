package kube_test

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/engine/contracttest"
	"github.com/stack-deploy/stack/engine/kube"
	"github.com/stack-deploy/stack/internal/e2e"
	"github.com/stack-deploy/stack/manifest"
)

// The Kubernetes driver passes the driver contract on the lab's node.
// Services stop within a second (sleep as PID 1 ignores SIGTERM); drift is
// a Deployment deleted behind stack's back.
func TestDriverContract(t *testing.T) {
	lab := e2e.Kube(t)
	c := labClient(t, lab)
	d, err := kube.New(kube.WithClient(c))
	if err != nil {
		t.Fatal(err)
	}
	contracttest.Run(t, contracttest.Harness{
		Driver:  d,
		Image:   lab.Image(t, "busybox:stable"),
		Extra:   "    stop_grace_period: 1s\n",
		Project: func(t *testing.T) string { return lab.KubeProject(t) },
		Images: func(t *testing.T, p *manifest.Project) engine.Images {
			images, err := d.ConfigHashes(p, engine.Images{})
			if err != nil {
				t.Fatal(err)
			}
			return images
		},
		Running: func(t *testing.T, project, service string) int { return readyPods(t, c, project, service) },
		Drift: func(t *testing.T, project string) {
			if err := c.AppsV1().Deployments(project).Delete(t.Context(), "web", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		},
	})
}

// labClient is a client of the lab's cluster.
func labClient(t testing.TB, lab *e2e.KubeLab) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", lab.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// readyPods counts the pods of service that are ready (or, for a Job's,
// completed) and not being deleted.
func readyPods(t testing.TB, c kubernetes.Interface, project, service string) int {
	t.Helper()
	pods, err := c.CoreV1().Pods(project).List(t.Context(), metav1.ListOptions{LabelSelector: engine.LabelProject + "=" + project + "," + engine.LabelService + "=" + service})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		for _, cond := range p.Status.Conditions {
			if cond.Type == corev1.PodReady && cond.Status == corev1.ConditionTrue {
				n++
			}
		}
	}
	return n
}

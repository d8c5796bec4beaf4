package kube_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/stack-deploy/stack/internal/e2e"
)

// objectReader reads every object of a namespace: each resource the
// cluster serves in namespaces that can be listed and watched (what
// cannot be watched, such as the metrics API's, is computed, never
// written), at its preferred version.
type objectReader struct {
	lab       *e2e.KubeLab
	client    kubernetes.Interface
	dynamic   dynamic.Interface
	resources []schema.GroupVersionResource
}

func newObjectReader(b *testing.B, lab *e2e.KubeLab) *objectReader {
	cfg, err := clientcmd.BuildConfigFromFlags("", lab.Kubeconfig)
	if err != nil {
		b.Fatal(err)
	}
	cfg.WarningHandler = rest.NoWarnings{} // listing v1 Endpoints warns that it is deprecated
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		b.Fatal(err)
	}
	lists, err := disc.ServerPreferredNamespacedResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		b.Fatalf("listing the cluster's resources: %v", err)
	}
	r := &objectReader{lab: lab, client: labClient(b, lab)}
	if r.dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		b.Fatal(err)
	}
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			b.Fatal(err)
		}
		for _, res := range l.APIResources {
			if slices.Contains(res.Verbs, "list") && slices.Contains(res.Verbs, "watch") {
				r.resources = append(r.resources, gv.WithResource(res.Name))
			}
		}
	}
	return r
}

// versions maps each object in ns, and ns itself, by UID (the same object
// served by two groups, events, counts once) to its kind, name and
// resourceVersion.
func (r *objectReader) versions(b *testing.B, ns string) map[string]string {
	b.Helper()
	out := map[string]string{}
	n, err := r.client.CoreV1().Namespaces().Get(b.Context(), ns, metav1.GetOptions{})
	if err != nil {
		b.Fatal(err)
	}
	out[string(n.UID)] = "Namespace/" + ns + "@" + n.ResourceVersion
	for _, res := range r.resources {
		list, err := r.dynamic.Resource(res).Namespace(ns).List(b.Context(), metav1.ListOptions{})
		if err != nil {
			b.Fatalf("listing %s in %s: %v", res, ns, err)
		}
		for _, o := range list.Items {
			out[string(o.GetUID())] = o.GetKind() + "/" + o.GetName() + "@" + o.GetResourceVersion()
		}
	}
	return out
}

// writes counts the objects of ns that changed since before: a moved
// resourceVersion, a new object, a deleted one. It logs them.
func (r *objectReader) writes(b *testing.B, ns string, before map[string]string) int {
	b.Helper()
	after := r.versions(b, ns)
	var changed []string
	for uid, v := range after {
		if before[uid] != v {
			changed = append(changed, "now "+v)
		}
	}
	for uid, v := range before {
		if _, ok := after[uid]; !ok {
			changed = append(changed, "gone "+v)
		}
	}
	sort.Strings(changed)
	if len(changed) > 0 {
		b.Logf("%d objects of %s written: %s", len(changed), ns, strings.Join(changed, ", "))
	}
	return len(changed)
}

// allReady fails the benchmark unless ns holds want Deployments, each with
// every replica updated and ready: what both sides of a cold figure wait
// for.
func (r *objectReader) allReady(b *testing.B, ns string, want int) {
	b.Helper()
	list, err := r.client.AppsV1().Deployments(ns).List(b.Context(), metav1.ListOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ready := 0
	for _, d := range list.Items {
		if d.Spec.Replicas != nil && d.Status.ReadyReplicas == *d.Spec.Replicas && d.Status.UpdatedReplicas == *d.Spec.Replicas {
			ready++
		}
	}
	if len(list.Items) != want || ready != want {
		b.Fatalf("%s: %d Deployments, %d of them ready; want %d ready", ns, len(list.Items), ready, want)
	}
}

// exec runs name with args in dir (the test's own when empty) against the
// lab, failing the benchmark unless it exits 0, and returns its stdout.
func (k *kubeBench) exec(b *testing.B, dir, name string, args ...string) string {
	b.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), k.lab.Env()...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			b.Fatalf("running %s: %v", name, err)
		}
		b.Fatalf("%s %s: exit %d\n%s%s", name, strings.Join(args, " "), exit.ExitCode(), stdout.String(), stderr.String())
	}
	return stdout.String()
}

package kube_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
	"github.com/stack-deploy/stack/manifest"
)

// BenchmarkLayeredDAGOnKubernetes measures, on the lab's node, stack on the
// 30-service layered DAG (e2e.LayeredDAG, the Docker and Swarm benchmarks'
// file) beside the tools a Kubernetes user has, each in a namespace of its
// own, deleted before the next cold start:
//
//   - up-s: `stack up` cold, until every rollout is ready (stack waits for
//     each layer's rollouts before it applies the next layer); beside it
//     kompose-s: `kompose convert` of the same file, `kubectl create
//     namespace`, `kubectl apply --server-side` of what kompose wrote and
//     `kubectl rollout status` of every Deployment, no less ready. kompose
//     ignores depends_on: it applies all 30 at once, so up/kompose is the
//     price of the order, which kompose does not keep.
//   - noop-up-s: `stack up` again, nothing changed, as CI runs it (no model
//     cache), and noop-cached-up-s as a user runs it (the model from
//     stack's cache); noop-load-s is the share of loading the manifest
//     for the environment without the cache (in process); noop-writes: the objects in the namespace (every kind
//     that can be listed and watched, and the namespace) whose
//     resourceVersion moved, or that came or went, per no-op: 0. Their
//     anchor, reapply-s: `kubectl apply --server-side` again of the same
//     objects, `stack config --format kubernetes`'s output for the same
//     project, applied and rolled out by kubectl in a namespace of its own;
//     reapply-writes counts its writes alike. Each is the mean of noopRuns,
//     taken in turns so that both see the same load; noop/reapply is the
//     ratio. kompose-reapply-s is kubectl's re-apply of kompose's output
//     (30 Deployments, no Services: fewer objects than stack's).
//
// load1 is the machine's load average at the end: the figures are wall
// clock on a shared machine. Run it with `make bench` or
// go test ./engine/kube -run '^$' -bench LayeredDAGOnKubernetes -benchtime 1x
func BenchmarkLayeredDAGOnKubernetes(b *testing.B) {
	k := newKubeBench(b)
	var f kubeFigures
	for i := 0; i < b.N; i++ {
		k.stackAndAnchor(b, &f)
		k.kompose(b, &f)
	}
	f.report(b)
}

// noopRuns is how many no-ops, and re-applies, each run times.
const noopRuns = 3

// kubeFigures are the sums over b.N runs.
type kubeFigures struct {
	up, kompose, komposeConvert, komposeApply time.Duration
	noop, noopCached, reapply, komposeReapply time.Duration
	noopLoad                                  time.Duration
	noopWrites, reapplyWrites, komposeWrites  int
}

func (f *kubeFigures) report(b *testing.B) {
	n, runs := float64(b.N), float64(b.N*noopRuns)
	b.ReportMetric(f.up.Seconds()/n, "up-s")
	b.ReportMetric(f.kompose.Seconds()/n, "kompose-s")
	b.ReportMetric(f.komposeConvert.Seconds()/n, "kompose-convert-s")
	b.ReportMetric(f.komposeApply.Seconds()/n, "kompose-apply-s")
	b.ReportMetric(f.up.Seconds()/f.kompose.Seconds(), "up/kompose")
	b.ReportMetric(f.noop.Seconds()/runs, "noop-up-s")
	b.ReportMetric(f.noopCached.Seconds()/runs, "noop-cached-up-s")
	b.ReportMetric(f.noopLoad.Seconds()/runs, "noop-load-s")
	b.ReportMetric(float64(f.noopWrites)/runs/2, "noop-writes")
	b.ReportMetric(f.reapply.Seconds()/runs, "reapply-s")
	b.ReportMetric(float64(f.reapplyWrites)/runs, "reapply-writes")
	b.ReportMetric(f.noop.Seconds()/f.reapply.Seconds(), "noop/reapply")
	b.ReportMetric(f.noopCached.Seconds()/f.reapply.Seconds(), "noop-cached/reapply")
	b.ReportMetric(f.komposeReapply.Seconds()/n, "kompose-reapply-s")
	b.ReportMetric(float64(f.komposeWrites)/n, "kompose-reapply-writes")
	b.ReportMetric(loadAverage(b), "load1")
}

// kubeBench is what every run uses: the lab, its image of busybox, kubectl
// and kompose, and a reader of the namespaces' objects.
type kubeBench struct {
	lab       *e2e.KubeLab
	image     string
	kubectl   string
	komposeAt string
	objects   *objectReader
}

func newKubeBench(b *testing.B) *kubeBench {
	lab := e2e.Kube(b)
	e2e.Binary(b) // built before the clock runs
	return &kubeBench{
		lab:       lab,
		image:     lab.Image(b, "busybox:stable"),
		kubectl:   lab.KubectlBin(b),
		komposeAt: e2e.Kompose(b),
		objects:   newObjectReader(b, lab),
	}
}

// project writes the DAG as project ns, deployed to namespace ns by the
// environment lab, into a directory of its own, and returns it.
func (k *kubeBench) project(b *testing.B, ns string) string {
	dir := b.TempDir()
	e2e.WriteFiles(b, dir, map[string]string{"compose.yaml": "name: " + ns + "\n" +
		// sleep as PID 1 ignores SIGTERM: a second's grace, not 30, so
		// that deleting a namespace takes seconds.
		e2e.LayeredDAG(e2e.DAG{Image: k.image, Extra: "    stop_grace_period: 1s\n"}) +
		"x-stack:\n  environments:\n    lab: {orchestrator: kubernetes, namespace: " + ns + "}\n"})
	return dir
}

// stackAndAnchor times `stack up` cold; then, with the anchor's objects
// applied beside it, noopRuns turns of a no-op up (without and with the
// model cache) and the anchor's re-apply, counting the writes of each.
func (k *kubeBench) stackAndAnchor(b *testing.B, f *kubeFigures) {
	ns := k.lab.KubeProject(b)
	dir := k.project(b, ns)
	stack := e2e.Cmd{Dir: dir, Env: k.lab.Env()}
	f.up += timed(func() { stack.MustRun(b, "up", "--env", "lab", "--timeout", "10m") })
	k.objects.allReady(b, ns, e2e.DAGWide*e2e.DAGDeep)
	cached := e2e.Cmd{Dir: dir, Env: append(k.lab.Env(), "STACK_CACHE=on", "XDG_CACHE_HOME="+b.TempDir())}
	cached.MustRun(b, "up", "--env", "lab") // fills the cache

	anchor, file := k.anchor(b)
	for range noopRuns {
		before := k.objects.versions(b, ns)
		f.noop += timed(func() { stack.MustRun(b, "up", "--env", "lab") })
		f.noopCached += timed(func() { cached.MustRun(b, "up", "--env", "lab") })
		f.noopWrites += k.objects.writes(b, ns, before)
		f.noopLoad += timed(func() { loadLab(b, dir) })

		before = k.objects.versions(b, anchor)
		f.reapply += timed(func() { k.run(b, "apply", "--server-side", "-f", file) })
		f.reapplyWrites += k.objects.writes(b, anchor, before)
	}
	k.deleteNamespace(b, ns)
	k.deleteNamespace(b, anchor)
}

// anchor applies `stack config --format kubernetes`'s objects of the
// project with kubectl in a namespace of its own and waits for their
// rollouts; it returns the namespace and the objects' file.
func (k *kubeBench) anchor(b *testing.B) (ns, file string) {
	ns = k.lab.KubeProject(b)
	dir := k.project(b, ns)
	cfg := e2e.Cmd{Dir: dir, Env: k.lab.Env()}.MustRun(b, "config", "--env", "lab", "--format", "kubernetes")
	file = filepath.Join(dir, "objects.yaml")
	if err := os.WriteFile(file, []byte(cfg.Stdout), 0o644); err != nil {
		b.Fatal(err)
	}
	k.run(b, "apply", "--server-side", "-f", file)
	k.run(b, "rollout", "status", "-n", ns, "deployment", "-l", e2e.Label, "--timeout", "10m")
	k.objects.allReady(b, ns, e2e.DAGWide*e2e.DAGDeep)
	return ns, file
}

// kompose times what a user of kompose runs: convert, create the
// namespace, apply, wait for every rollout; then the re-apply.
func (k *kubeBench) kompose(b *testing.B, f *kubeFigures) {
	ns := k.lab.KubeProject(b)
	dir := k.project(b, ns)
	out := filepath.Join(dir, "k8s")
	start := time.Now()
	f.komposeConvert += timed(func() {
		k.exec(b, dir, k.komposeAt, "convert", "-f", filepath.Join(dir, "compose.yaml"), "-o", out+"/")
	})
	f.komposeApply += timed(func() {
		k.run(b, "create", "namespace", ns)
		k.run(b, "apply", "--server-side", "-n", ns, "-f", out)
	})
	k.run(b, "rollout", "status", "-n", ns, "deployment", "-l", "io.kompose.service", "--timeout", "10m")
	f.kompose += time.Since(start)
	k.objects.allReady(b, ns, e2e.DAGWide*e2e.DAGDeep)
	before := k.objects.versions(b, ns)
	f.komposeReapply += timed(func() { k.run(b, "apply", "--server-side", "-n", ns, "-f", out) })
	f.komposeWrites += k.objects.writes(b, ns, before)
	k.deleteNamespace(b, ns)
}

// run runs the lab's kubectl, failing the benchmark unless it exits 0.
func (k *kubeBench) run(b *testing.B, args ...string) string {
	return k.exec(b, "", k.kubectl, args...)
}

// deleteNamespace deletes ns and waits until it is gone, so that the next
// run starts on a quiet node (KubeProject's cleanup, at the end, finds
// nothing left).
func (k *kubeBench) deleteNamespace(b *testing.B, ns string) {
	k.run(b, "delete", "namespace", ns, "--wait=true", "--timeout=5m")
}

func timed(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

// loadLab loads the project in dir for the environment lab, as `stack up
// --env lab` in CI does (no model cache).
func loadLab(b *testing.B, dir string) {
	_, err := manifest.Load(b.Context(), manifest.Options{Files: []string{filepath.Join(dir, "compose.yaml")}, Environment: "lab"})
	if err != nil {
		b.Fatal(err)
	}
}

// loadAverage is the machine's one-minute load average.
func loadAverage(b *testing.B) float64 {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		b.Fatal(err)
	}
	load, err := strconv.ParseFloat(strings.Fields(string(raw))[0], 64)
	if err != nil {
		b.Fatal(err)
	}
	return load
}

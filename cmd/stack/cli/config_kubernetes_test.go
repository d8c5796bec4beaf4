package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestConfigKubernetes: `stack config --format kubernetes` prints the
// Kubernetes objects of kvstore, with the injected addresses, without a
// cluster or an engine (DOCKER_HOST points nowhere), the same bytes on every
// run, as testdata/kubernetes/kvstore.golden records them (-update rewrites
// it); its warnings go to stderr. As written, with its port published on
// 8080, kvstore is refused, naming the file, the service and the port.
func TestConfigKubernetes(t *testing.T) {
	golden, err := filepath.Abs(filepath.Join("testdata", "kubernetes", "kvstore.golden"))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "examples", "kvstore"))
	if err != nil {
		t.Fatal(err)
	}
	isolateEnv(t, dir)
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "no-engine.sock"))
	t.Setenv("KVSTORE_PORT", "30080")
	run := func() (string, string, int) {
		var stdout, stderr bytes.Buffer
		code := Execute(t.Context(), []string{"config", "--format", "kubernetes"}, strings.NewReader(""), &stdout, &stderr)
		return stdout.String(), stderr.String(), code
	}
	out, errOut, code := run()
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if *update {
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -run TestConfigKubernetes -update ./cmd/stack/cli/ to create it)", err)
	}
	if out != string(want) {
		t.Errorf("stack config --format kubernetes differs from %s:\n--- got\n%s", golden, out)
	}
	for _, s := range []string{"kind: StatefulSet", "name: web-published", "nodePort: 30080", "name: REDIS_HOST"} {
		if !strings.Contains(out, s) {
			t.Errorf("the objects lack %q", s)
		}
	}
	if !strings.Contains(errOut, `stack: warning: service:web: build: image kvstore-web names no registry`) {
		t.Errorf("stderr %q does not warn about the image the cluster cannot pull", errOut)
	}
	if again, _, _ := run(); again != out {
		t.Errorf("a second run printed other bytes")
	}

	t.Setenv("KVSTORE_PORT", "8080")
	out, errOut, code = run()
	if code != 1 || out != "" {
		t.Fatalf("port 8080: exit %d, stdout %q; want exit 1 and only an error", code, out)
	}
	for _, s := range []string{"compose.yaml:7", `service "web"`, "ports[0]", "published port 8080", "expose: loadbalancer"} {
		if !strings.Contains(errOut, s) {
			t.Errorf("error %q does not say %q", errOut, s)
		}
	}
}

// TestConfigKubernetesEnvironment: for an environment of a Kubernetes
// cluster, config asks no Docker engine anything (there is none to ask):
// the model and the objects print with the addresses injected, in the
// environment's namespace, with published ports behind a load balancer.
func TestConfigKubernetesEnvironment(t *testing.T) {
	dir := e2e.Tree(t, map[string]string{"compose.yaml": `
name: shop
services:
  web: {image: nginx:1.27, ports: ["80:8080"], depends_on: [api]}
  api: {image: api:1, expose: ["9000"]}
x-stack:
  environments:
    prod: {orchestrator: kubernetes, context: prod, namespace: shop-live, expose: loadbalancer}
`})
	noEngine := []string{"DOCKER_HOST=unix://" + filepath.Join(t.TempDir(), "no-engine.sock")}
	stdout, stderr, code := run(t, dir, noEngine, "config", "--env", "prod")
	if code != 0 || !strings.Contains(stdout, "API_HOST: api") {
		t.Fatalf("config --env prod: exit %d, stdout %q\n%s", code, stdout, stderr)
	}
	stdout, stderr, code = run(t, dir, noEngine, "config", "--env", "prod", "--format", "kubernetes")
	if code != 0 {
		t.Fatalf("config --env prod --format kubernetes: exit %d\n%s", code, stderr)
	}
	for _, s := range []string{"namespace: shop-live", "type: LoadBalancer", "name: API_PORT\n          value: \"9000\""} {
		if !strings.Contains(stdout, s) {
			t.Errorf("the objects lack %q:\n%s", s, stdout)
		}
	}
}

package kube_test

import (
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestPruneOnKubernetes: what leaves the manifest leaves the cluster.
//
// Model: web (busybox, sleeping) mounting config conf and publishing
// NodePort 30000+, in environment lab {orchestrator: kubernetes,
// namespace}.
//
// Steps: up -> the config map, the Services (web, web-published) and the
// ApplySet's parent exist, each member labelled with the set's id -> the
// config and the published port leave the manifest: plan shows each
// pruned, up deletes them and keeps web -> plan is a no-op -> down
// removes the rest, the set's parent included.
func TestPruneOnKubernetes(t *testing.T) {
	lab := e2e.Kube(t)
	ns := lab.KubeProject(t)
	dir := t.TempDir()
	image := lab.Image(t, "busybox:stable")
	full := `name: ` + ns + `
services:
  web:
    image: ` + image + `
    command: [sleep, "3600"]
    stop_grace_period: 1s
    configs: [{source: conf, target: /etc/conf}]
    ports: ["30417:80"]
configs:
  conf: {content: "hello"}
x-stack:
  environments:
    lab: {orchestrator: kubernetes, namespace: ` + ns + `}
`
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": full})
	stack := e2e.Cmd{Dir: dir, Env: lab.Env()}
	stack.MustRun(t, "up", "--env", "lab", "--timeout", "120s")
	objects := func() string {
		return lab.Kubectl(t, "-n", ns, "get", "configmap,secret,service,deploy", "-l", "io.stack.project", "-o", `jsonpath={range .items[*]}{.kind}/{.metadata.name} {end}`)
	}
	for _, want := range []string{"ConfigMap/conf", "Secret/stack-applyset", "Service/web ", "Service/web-published", "Deployment/web"} {
		if got := objects(); !strings.Contains(got+" ", want) {
			t.Errorf("after up: %s lacks %s", got, want)
		}
	}
	if members := lab.Kubectl(t, "-n", ns, "get", "deploy,service,configmap", "-l", "applyset.kubernetes.io/part-of", "-o", "name"); strings.Count(members, "\n") != 3 {
		t.Errorf("ApplySet members: %q, want the deployment, 2 services and the config map", members)
	}

	slim := strings.Replace(full, "    configs: [{source: conf, target: /etc/conf}]\n    ports: [\"30417:80\"]\n", "", 1)
	slim = strings.Replace(slim, "configs:\n  conf: {content: \"hello\"}\n", "", 1)
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": slim})
	plan := stack.MustRun(t, "plan", "--env", "lab")
	for _, want := range []string{"configmap:conf", "service:web-published", "pruned"} {
		if !strings.Contains(plan.Stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan.Stdout)
		}
	}
	stack.MustRun(t, "up", "--env", "lab", "--timeout", "120s")
	got := objects()
	for _, gone := range []string{"ConfigMap/conf", "Service/web-published"} {
		if strings.Contains(got, gone) {
			t.Errorf("after up without it: %s still has %s", got, gone)
		}
	}
	if !strings.Contains(got, "Deployment/web") {
		t.Errorf("after the prune web is gone: %s", got)
	}
	if plan := stack.MustRun(t, "plan", "--env", "lab"); strings.Contains(plan.Stdout, "remove") || strings.Contains(plan.Stdout, "create") {
		t.Errorf("plan after the prune:\n%s", plan.Stdout)
	}
	stack.MustRun(t, "down", "--env", "lab")
	if got := objects(); got != "" {
		t.Errorf("after down: %s", got)
	}
}

package kube_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestCrashLoopEndsTheWait: a rollout that cannot finish fails at once
// with the pod's own reason, not at the timeout.
//
// Model: db (sleeps), and web, which exits 3 as soon as it starts (its
// healthcheck, never passing, keeps it from counting as ready in the
// instant it runs).
//
// Steps: up --timeout 10m -> exit 1, naming web's pod, CrashLoopBackOff
// and exit code 3; db is up -> plan shows web to be started again.
func TestCrashLoopEndsTheWait(t *testing.T) {
	lab := e2e.Kube(t)
	ns := lab.KubeProject(t)
	dir := t.TempDir()
	image := lab.Image(t, "busybox:stable")
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": `name: ` + ns + `
services:
  db:
    image: ` + image + `
    command: [sleep, "3600"]
    stop_grace_period: 1s
  web:
    image: ` + image + `
    command: [sh, -c, "exit 3"]
    healthcheck: {test: [CMD, test, -f, /ready], interval: 1s}
    depends_on: [db]
x-stack:
  environments:
    lab: {orchestrator: kubernetes, namespace: ` + ns + `}
`})
	stack := e2e.Cmd{Dir: dir, Env: lab.Env()}
	r := stack.Run(t, "up", "--env", "lab", "--timeout", "10m")
	if r.Code != 1 {
		t.Fatalf("up of a crashing service: exit %d, want 1", r.Code)
	}
	for _, want := range []string{"pod web-", "CrashLoopBackOff", "exited with code 3"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("up's error lacks %q:\n%s", want, r.Stderr)
		}
	}
	if strings.Contains(r.Stderr, "timed out") {
		t.Errorf("the wait ran out of time rather than ending at the crash loop:\n%s", r.Stderr)
	}
	if ready := lab.Kubectl(t, "-n", ns, "get", "deploy", "db", "-o", "jsonpath={.status.readyReplicas}"); ready != "1" {
		t.Errorf("db ready replicas: %q, want 1", ready)
	}
	plan := stack.MustRun(t, "plan", "--env", "lab")
	if !strings.Contains(plan.Stdout, "service:web") || strings.Contains(strings.SplitAfter(plan.Stdout, "service:web")[1], "unchanged") {
		t.Errorf("plan after the failure leaves the crashing web as it is:\n%s", plan.Stdout)
	}
}

// TestConcurrentUpsTakeTurns: two `stack up`s of one project at once take
// turns on the Lease: both succeed, one waited for the other, and the
// project is converged once.
func TestConcurrentUpsTakeTurns(t *testing.T) {
	lab := e2e.Kube(t)
	ns := lab.KubeProject(t)
	dir := t.TempDir()
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": `name: ` + ns + `
services:
  web:
    image: ` + lab.Image(t, "busybox:stable") + `
    command: [sleep, "3600"]
    stop_grace_period: 1s
x-stack:
  environments:
    lab: {orchestrator: kubernetes, namespace: ` + ns + `}
`})
	stack := e2e.Cmd{Dir: dir, Env: lab.Env()}
	var wg sync.WaitGroup
	results := make([]e2e.Result, 2)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = stack.Run(t, "up", "--env", "lab", "--timeout", "3m", "--lock-timeout", "3m")
		}()
	}
	wg.Wait()
	waited := 0
	for i, r := range results {
		if r.Code != 0 {
			t.Errorf("up %d: exit %d\n%s", i, r.Code, r.Stderr)
		}
		if strings.Contains(r.Stderr, "held by") {
			waited++
		}
	}
	if waited != 1 {
		t.Errorf("%d of the two ups waited for the other's lock, want 1", waited)
	}
	if plan := stack.MustRun(t, "plan", "--env", "lab"); strings.Contains(plan.Stdout, "create") {
		t.Errorf("plan after both ups:\n%s", plan.Stdout)
	}
	if lease := lab.Kubectl(t, "-n", ns, "get", "lease", "-o", "name"); lease != "" {
		t.Errorf("after both ups the lease is still there: %s", lease)
	}
}

// TestImagePullBackOffEndsTheWait: an image the registry does not have
// ends the wait once the kubelet backs off pulling it, naming the pod and
// the reason.
//
// Model: web, running an image by a digest the lab registry lacks.
func TestImagePullBackOffEndsTheWait(t *testing.T) {
	lab := e2e.Kube(t)
	ns := lab.KubeProject(t)
	dir := t.TempDir()
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": `name: ` + ns + `
services:
  web:
    image: ` + lab.Registry + `/nosuch/web@sha256:` + strings.Repeat("0", 64) + `
x-stack:
  environments:
    lab: {orchestrator: kubernetes, namespace: ` + ns + `}
`})
	r := e2e.Cmd{Dir: dir, Env: lab.Env()}.Run(t, "up", "--env", "lab", "--timeout", "10m")
	if r.Code != 1 {
		t.Fatalf("up of a missing image: exit %d, want 1", r.Code)
	}
	for _, want := range []string{"pod web-", "ImagePullBackOff"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("up's error lacks %q:\n%s", want, r.Stderr)
		}
	}
}

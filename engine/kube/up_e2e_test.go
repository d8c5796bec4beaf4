package kube_test

import (
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// kvCompose is a redis and an app that reads REDIS_HOST and REDIS_PORT
// (injected by stack) and counts its visits in redis every second; its
// healthcheck, the pod's readiness probe, passes once redis answered, so
// the app is ready only if the name redis resolves through cluster DNS.
const kvCompose = `
services:
  redis:
    image: redis:7-alpine
    volumes: [data:/data]
    stop_grace_period: 1s
  app:
    build: .
    environment: {GREETING: "one"}
    depends_on: [redis]
    stop_grace_period: 1s
    healthcheck:
      test: ["CMD-SHELL", "grep -q '^:' /tmp/out"]
      interval: 1s
      retries: 60
volumes:
  data: {}
x-stack:
  environments:
    lab: {orchestrator: kubernetes, namespace: NAMESPACE, registry: REGISTRY}
`

const kvApp = `mkdir -p /tmp
trap 'exit 0' TERM
while true; do
  printf 'INCR hits\r\n' | nc -w 2 "$REDIS_HOST" "$REDIS_PORT" > /tmp/out.new && mv /tmp/out.new /tmp/out
  sleep 1 & wait $!
done
`

// TestUpOnKubernetes drives the binary as a user would against the lab.
//
// Model: kvCompose, environment lab {orchestrator: kubernetes, namespace,
// registry: the lab's}.
//
// Steps: up -> the app is built, pushed and run by digest, and ready (it
// reached redis by its injected address through cluster DNS); its
// environment carries REDIS_HOST=redis and REDIS_PORT=6379 -> plan shows
// nothing to do, and a second up writes nothing (no resourceVersion
// moves) -> GREETING changed: plan says app is recreated, up rolls it out,
// the new pod has the new value, redis is untouched -> ps lists both pods
// -> down removes the workloads and keeps redis's claim -> down -v
// removes the claim.
func TestUpOnKubernetes(t *testing.T) {
	lab := e2e.Kube(t)
	ns := lab.KubeProject(t)
	dir := t.TempDir()
	compose := strings.NewReplacer("NAMESPACE", ns, "REGISTRY", lab.Registry+"/"+ns).Replace(kvCompose)
	e2e.WriteFiles(t, dir, map[string]string{
		"compose.yaml": "name: " + ns + "\n" + compose,
		"Dockerfile":   "FROM busybox:stable\nCOPY app.sh /app.sh\nCMD [\"sh\", \"/app.sh\"]\n",
		"app.sh":       kvApp,
	})
	stack := e2e.Cmd{Dir: dir, Env: lab.Env()}

	stack.MustRun(t, "up", "--env", "lab", "--timeout", "180s")
	if out := lab.Kubectl(t, "-n", ns, "exec", "deploy/app", "--", "cat", "/tmp/out"); !strings.HasPrefix(out, ":") {
		t.Errorf("the app's last answer from redis: %q, want :<count>", out)
	}
	env := lab.Kubectl(t, "-n", ns, "get", "deploy/app", "-o", `jsonpath={range .spec.template.spec.containers[0].env[*]}{.name}={.value} {end}`)
	for _, want := range []string{"REDIS_HOST=redis", "REDIS_PORT=6379", "GREETING=one"} {
		if !strings.Contains(env, want) {
			t.Errorf("app's environment %q lacks %s", env, want)
		}
	}
	if img := lab.Kubectl(t, "-n", ns, "get", "deploy/app", "-o", "jsonpath={.spec.template.spec.containers[0].image}"); !strings.Contains(img, "@sha256:") {
		t.Errorf("app runs %q, not an image by digest", img)
	}

	plan := stack.MustRun(t, "plan", "--env", "lab")
	for _, line := range strings.Split(strings.TrimSpace(plan.Stdout), "\n") {
		if !strings.Contains(line, "unchanged") {
			t.Errorf("plan after up: %q changes something", line)
		}
	}
	versions := func() string {
		return lab.Kubectl(t, "-n", ns, "get", "deploy,statefulset,service,pvc,configmap,secret", "-l", "io.stack.project", "-o", `jsonpath={range .items[*]}{.kind}/{.metadata.name}={.metadata.resourceVersion} {end}`)
	}
	before := versions()
	if !strings.Contains(before, "Deployment/app=") || !strings.Contains(before, "StatefulSet/redis=") {
		t.Fatalf("the project's objects: %q", before)
	}
	stack.MustRun(t, "up", "--env", "lab", "--timeout", "180s")
	if after := versions(); after != before {
		t.Errorf("a no-op up wrote:\nbefore %s\nafter  %s", before, after)
	}

	changed := strings.Replace(compose, `GREETING: "one"`, `GREETING: "two"`, 1)
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": "name: " + ns + "\n" + changed})
	plan = stack.MustRun(t, "plan", "--env", "lab")
	if !strings.Contains(plan.Stdout, "service:app") || !strings.Contains(plan.Stdout, "recreate") || !strings.Contains(plan.Stdout, "environment") {
		t.Errorf("plan after an env change:\n%s", plan.Stdout)
	}
	redisBefore := lab.Kubectl(t, "-n", ns, "get", "pod", "redis-0", "-o", "jsonpath={.metadata.uid}")
	stack.MustRun(t, "up", "--env", "lab", "--timeout", "180s")
	if got := lab.Kubectl(t, "-n", ns, "exec", "deploy/app", "--", "sh", "-c", "echo $GREETING"); got != "two" {
		t.Errorf("after the rollout the app has GREETING=%q, want two", got)
	}
	if got := lab.Kubectl(t, "-n", ns, "get", "pod", "redis-0", "-o", "jsonpath={.metadata.uid}"); got != redisBefore {
		t.Errorf("redis's pod was replaced (%s -> %s) by a change to app", redisBefore, got)
	}

	ps := stack.MustRun(t, "ps", "--env", "lab")
	for _, want := range []string{"redis-0", "app-", "kubelab-node", "running"} {
		if !strings.Contains(ps.Stdout, want) {
			t.Errorf("ps lacks %q:\n%s", want, ps.Stdout)
		}
	}

	stack.MustRun(t, "down", "--env", "lab")
	if left := lab.Kubectl(t, "-n", ns, "get", "deploy,statefulset,pod,service", "-o", "name"); left != "" {
		t.Errorf("after down: %s", left)
	}
	if pvc := lab.Kubectl(t, "-n", ns, "get", "pvc", "-o", "name"); pvc != "persistentvolumeclaim/data-redis-0" {
		t.Errorf("after down the claims are %q, want redis's kept", pvc)
	}
	stack.MustRun(t, "down", "--env", "lab", "-v")
	if pvc := lab.Kubectl(t, "-n", ns, "get", "pvc", "-o", "name"); pvc != "" {
		t.Errorf("after down -v the claims are %q, want none", pvc)
	}
}

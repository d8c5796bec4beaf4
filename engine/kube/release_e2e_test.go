package kube_test

import (
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// phaseKube: api, one replica whose volume data is a claim (data-api-0 of
// its StatefulSet), appends "started <version>" to /data/log as it starts;
// the before step appends "migrate <version>" and the address of redis it
// was given, once it found the secret token (which, on the first deploy, the
// step's run makes), the after step "after <version>"; STEP makes the before step
// fail.
const phaseKube = `
services:
  redis:
    image: redis:7-alpine
    stop_grace_period: 1s
  api:
    build: ./api
    command: ["sh", "-c", "echo started $$(cat /version) >> /data/log; trap 'exit 0' TERM; sleep 3600 & wait"]
    volumes: [data:/data]
    secrets: [token]
    depends_on: [redis]
    stop_grace_period: 1s
volumes:
  data: {}
secrets:
  token: {environment: TOKEN}
x-stack:
  release:
    before: [{service: api, command: ["sh", "-c", "test -s /run/secrets/token && echo migrate $$(cat /version) $$REDIS_HOST | tee -a /data/log; ${STEP:-true}"]}]
    after: [{service: api, command: ["sh", "-c", "echo after $$(cat /version) >> /data/log"]}]
  environments:
    lab: {orchestrator: kubernetes, namespace: NAMESPACE, registry: REGISTRY}
`

// TestReleasePhaseOnKubernetes: on Kubernetes the release phase's steps
// run as one-off Jobs of their service (its image by digest, its claim,
// its injected addresses): before once before the new version rolls out,
// after once it is ready; a failing before step exits 1 naming it and its
// code, and the old version goes on running; stack run reads the claim;
// down removes the one-offs, as on the other drivers.
//
// Steps:
//
//	v1: up                       -> log: migrate 1 redis, started 1, after 1
//	v2: up                       -> then: migrate 2 redis, started 2, after 2
//	up again                     -> no step runs
//	v3: up with STEP="exit 3"    -> exit 1 naming the step and code 3; no started 3;
//	                                api still runs v2's digest
//	run api true (kept), down    -> the one-off removed with the rest: no Job or pod left
func TestReleasePhaseOnKubernetes(t *testing.T) {
	lab := e2e.Kube(t)
	ns := lab.KubeProject(t)
	removeImages(t, lab.Registry+"/"+ns+"/")
	dir := t.TempDir()
	compose := strings.NewReplacer("NAMESPACE", ns, "REGISTRY", lab.Registry+"/"+ns).Replace(phaseKube)
	e2e.WriteFiles(t, dir, map[string]string{
		"compose.yaml":   "name: " + ns + "\n" + compose,
		"api/Dockerfile": "FROM busybox:stable\nCOPY version /version\n",
	})
	stack := func(env ...string) e2e.Cmd {
		return e2e.Cmd{Dir: dir, Env: append(append(lab.Env(), "STACK_ENV=lab", "TOKEN=s3cret"), env...)}
	}
	version := func(n string) { e2e.WriteFiles(t, dir, map[string]string{"api/version": n + "\n"}) }
	running := func() string {
		return lab.Kubectl(t, "-n", ns, "get", "statefulset/api", "-o", "jsonpath={.spec.template.spec.containers[0].image}")
	}
	log := func() []string {
		t.Helper()
		r := stack().MustRun(t, "run", "--rm", "api", "cat", "/data/log")
		return strings.Split(strings.TrimSpace(r.Stdout), "\n")
	}

	version("1")
	up := stack().MustRun(t, "up", "--timeout", "120s")
	if !strings.Contains(up.Stdout, "| migrate 1 redis\n") {
		t.Errorf("the before step's output is not under its name:\n%s", up.Stdout)
	}
	if got, want := strings.Join(log(), ","), "migrate 1 redis,started 1,after 1"; got != want {
		t.Errorf("after the first deploy the log is %q, want %q", got, want)
	}
	version("2")
	stack().MustRun(t, "up", "--timeout", "120s")
	v2 := running()
	got := log()
	if strings.Join(got[3:], ",") != "migrate 2 redis,started 2,after 2" || !strings.Contains(v2, "@sha256:") {
		t.Errorf("the second deploy's log is %v (api runs %s), want its migrate once, before it started, after once", got[3:], v2)
	}
	if stack().MustRun(t, "up"); len(log()) != len(got) {
		t.Errorf("an up that changes nothing ran a step: %v", log())
	}
	for _, line := range strings.Split(strings.TrimSpace(stack().MustRun(t, "plan").Stdout), "\n") {
		if !strings.Contains(line, "unchanged") {
			t.Errorf("plan after the one-offs: %q changes something", line)
		}
	}

	version("3")
	r := stack("STEP=exit 3").Run(t, "up", "--timeout", "120s")
	if r.Code != 1 || !strings.Contains(r.Stderr, "api: sh -c test -s /run/secrets/token && echo migrate") || !strings.Contains(r.Stderr, "code 3") {
		t.Errorf("a failing before step: exit %d, want 1 naming the step and code 3\n%s", r.Code, r.Stderr)
	}
	if l := strings.Join(log(), ","); strings.Contains(l, "started 3") || !strings.HasSuffix(l, "migrate 3 redis") || running() != v2 {
		t.Errorf("a failed before step changed the service: it runs %s (v2: %s), log %s", running(), v2, l)
	}

	if r := stack().Run(t, "run", "--rm", "-e", "CODE=4", "api", "sh", "-c", "echo out; echo err >&2; exit $CODE"); r.Code != 4 || !strings.Contains(r.Stdout, "out\n") || !strings.Contains(r.Stdout, "err\n") {
		t.Errorf("stack run of exit 4: exit %d, output %q, want 4 and both lines", r.Code, r.Stdout)
	}
	if r := stack().Run(t, "run", "--rm", "-i", "api", "true"); r.Code == 0 || !strings.Contains(r.Stderr, "stack run -i: not supported by the kubernetes orchestrator") {
		t.Errorf("stack run -i: exit %d, want it refused naming -i\n%s", r.Code, r.Stderr)
	}
	stack().MustRun(t, "run", "api", "true")
	if img := lab.Kubectl(t, "-n", ns, "get", "jobs", "-l", "io.stack.oneoff=true", "-o", "jsonpath={.items[*].spec.template.spec.containers[0].image}"); !strings.Contains(img, "/api@sha256:") && !strings.Contains(img, "/api:latest@sha256:") {
		t.Errorf("the one-off runs %q, not api's image by digest", img)
	}
	if jobs := lab.Kubectl(t, "-n", ns, "get", "jobs", "-l", "io.stack.oneoff=true", "-o", "name"); !strings.HasPrefix(jobs, "job.batch/api-run-") || strings.Contains(jobs, "\n") {
		t.Errorf("the one-off jobs after runs with --rm and one without: %q, want that one", jobs)
	}
	if down := stack().MustRun(t, "down"); !strings.Contains(down.Stdout+down.Stderr, "service:api-run") {
		t.Errorf("down does not name the one-off it removes:\n%s%s", down.Stdout, down.Stderr)
	}
	if left := lab.Kubectl(t, "-n", ns, "get", "jobs,pods", "-o", "name"); left != "" {
		t.Errorf("after down: %s", left)
	}
}

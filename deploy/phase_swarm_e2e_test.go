package deploy_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// phaseSwarm: api, 3 replicas, mounting the secret token, held on the manager (where its local volume
// data is one), appends "started <version>" to /data/log as a replica
// starts; the before step appends "migrate <version>", the after step
// "after <version>" (the before step, on the first deploy, needs the
// secret the deploy has not made yet); STEP and AFTER make them fail. The environment checks
// a command in a one-off api job, so every release deployed is verified.
const phaseSwarm = `
name: %[1]s
services:
  api:
    build: ./api
    init: true
    command: ["sh", "-c", "echo started $$(cat /version) >> /data/log; exec sleep 3600"]
    volumes: [data:/data]
    secrets: [token]
    stop_grace_period: 1s
    deploy:
      replicas: 3
      endpoint_mode: dnsrr
      placement: {constraints: ["node.role == manager"]}
volumes:
  data: {}
secrets:
  token: {environment: TOKEN}
x-stack:
  release:
    before: [{service: api, command: ["sh", "-c", "echo migrate $$(cat /version) | tee -a /data/log; test -s /run/secrets/token; ${STEP:-true}"]}]
    after: [{service: api, command: ["sh", "-c", "echo after $$(cat /version) >> /data/log; ${AFTER:-true}"]}]
  environments:
    cluster:
      orchestrator: swarm
      host: "%[2]s"
      project: "%[1]s"
      registry: "%[3]s/%[1]s"
      verify:
        - {service: api, command: ["sh", "-c", "test -s /version; ${CHECK:-true}"]}
`

// Intent: on a Swarm, the release phase's before step runs once, as a job
// of its service with the new image, before any task of the new version
// starts; a failing one leaves the old version running, exit 1 naming it
// and its code; after runs once every task is ready, and one that fails
// under --lock rolls the environment back to its last verified release;
// stack rollback then goes back one more; a release failing its check is
// rolled back to the last verified one.
//
// Steps:
//
//	v1: release, up --lock current        -> log: migrate 1, started 1 x3, after 1
//	v2: release, up --lock current        -> then: migrate 2, started 2 x3, after 2
//	up --lock current again               -> no step runs
//	v3: release, up with STEP="exit 3"    -> exit 1 naming the step and code 3; no started 3;
//	                                         api still runs v2's digest
//	up with AFTER="exit 5"                -> started 3, then exit 1 naming code 5 and the
//	                                         rollback to v2: api runs v2's digest
//	stack rollback --env cluster          -> v1 (v3 failed, v2 runs): api runs v1's digest
//	v3 with its check failing (CHECK)     -> exit 1 naming the check, rolled back to v1
//	                                         (v2 was rolled back from): api runs v1's digest
//	stack verify --env cluster            -> its check as a job: v1 verified
func TestReleasePhaseOnSwarm(t *testing.T) {
	lab := e2e.Swarm(t)
	project := lab.SwarmProject(t)
	t.Cleanup(func() { removeLocalImages(t, lab.Registry+"/"+project+"/") })
	dir := t.TempDir()
	e2e.WriteFiles(t, dir, map[string]string{
		"compose.yaml":   fmt.Sprintf(phaseSwarm, project, lab.Host, lab.Registry),
		"api/Dockerfile": "FROM busybox:stable\nCOPY version /version\n",
	})
	stack := func(env ...string) e2e.Cmd {
		return e2e.Cmd{Dir: dir, Env: append([]string{"STACK_ENV=cluster", "TOKEN=s3cret"}, env...)}
	}
	release := func(n int) {
		t.Helper()
		e2e.WriteFiles(t, dir, map[string]string{"api/version": strconv.Itoa(n) + "\n"})
		stack().MustRun(t, "release", "--tag", "v"+strconv.Itoa(n))
	}
	running := func() string {
		t.Helper()
		return lab.Docker(t, 0, "service", "inspect", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}", project+"_api")
	}
	log := func() []string {
		t.Helper()
		r := stack().MustRun(t, "run", "api", "cat", "/data/log")
		return strings.Split(strings.TrimSpace(r.Stdout), "\n")
	}

	release(1)
	stack().MustRun(t, "up", "--lock", "current", "--timeout", "2m")
	v1 := running()
	if got, want := strings.Join(log(), ","), "migrate 1,started 1,started 1,started 1,after 1"; got != want || v1 == "" {
		t.Errorf("after the first deploy the log is %q, want %q", got, want)
	}
	release(2)
	up := stack().MustRun(t, "up", "--lock", "current", "--timeout", "2m")
	if !strings.Contains(up.Stdout, "api: sh -c echo migrate $(cat /version) | tee -a /data/log; test -s /run/secrets/token; true | migrate 2\n") {
		t.Errorf("the before step's output is not under its name:\n%s", up.Stdout)
	}
	v2 := running()
	got := log()
	if strings.Join(got[5:], ",") != "migrate 2,started 2,started 2,started 2,after 2" {
		t.Errorf("the second deploy's log is %v, want its migrate once, before its 3 replicas started, after once", got[5:])
	}
	if stack().MustRun(t, "up", "--lock", "current"); len(log()) != len(got) {
		t.Errorf("an up that changes nothing ran a step: %v", log())
	}

	release(3)
	r := stack("STEP=exit 3").Run(t, "up", "--lock", "current", "--timeout", "2m")
	if r.Code != 1 || !strings.Contains(r.Stderr, "api: sh -c echo migrate") || !strings.Contains(r.Stderr, "code 3") {
		t.Errorf("a failing before step: exit %d, want 1 naming the step and code 3\n%s", r.Code, r.Stderr)
	}
	if strings.Contains(strings.Join(log(), ","), "started 3") || running() != v2 {
		t.Errorf("a failed before step changed the service: it runs %s (v2: %s), log %v", running(), v2, log())
	}

	r = stack("AFTER=exit 5").Run(t, "up", "--lock", "current", "--timeout", "2m")
	if r.Code != 1 || !strings.Contains(r.Stderr, "code 5") || !strings.Contains(r.Stderr, "rolled back to v2") {
		t.Errorf("a failing after step under --lock: exit %d, want 1 naming code 5 and the rollback to v2\n%s", r.Code, r.Stderr)
	}
	if !strings.Contains(strings.Join(log(), ","), "started 3,started 3,started 3,after 3") {
		t.Errorf("the after step did not run once every v3 task had started: %v", log())
	}
	if got := running(); got != v2 {
		t.Errorf("after the rollback api runs %s, want v2's %s", got, v2)
	}

	r = stack().MustRun(t, "rollback", "--timeout", "2m")
	if !strings.Contains(r.Stdout, "back from v2 to v1") {
		t.Errorf("stack rollback: want v2 -> v1 (v3 failed)\n%s", r.Stdout)
	}
	if got := running(); got != v1 {
		t.Errorf("after stack rollback api runs %s, want v1's %s", got, v1)
	}

	r = stack("CHECK=exit 7").Run(t, "up", "--lock", "current", "--timeout", "2m")
	if r.Code != 1 || !strings.Contains(r.Stderr, `check "api: sh -c test -s /version; exit 7" failed`) || !strings.Contains(r.Stderr, "rolled back to v1") {
		t.Errorf("v3 failing its check under --lock: exit %d, want 1 naming the check and the rollback to v1\n%s", r.Code, r.Stderr)
	}
	if got := running(); got != v1 {
		t.Errorf("after the failed check api runs %s, want v1's %s", got, v1)
	}
	if r := stack().Run(t, "verify"); r.Code != 0 || !strings.Contains(r.Stdout, "PASS  api: sh -c test -s /version; true") || !strings.Contains(r.Stdout, "release v1 verified on cluster") {
		t.Errorf("stack verify on the Swarm: exit %d, want v1 verified\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
}

// removeLocalImages removes the main engine's images under prefix: what
// the test built and pushed.
func removeLocalImages(t *testing.T, prefix string) {
	t.Helper()
	var ids []string
	for _, line := range strings.Split(e2e.Docker(t, "images", "--format", "{{.Repository}} {{.ID}}"), "\n") {
		if repo, id, _ := strings.Cut(line, " "); strings.HasPrefix(repo, prefix) {
			ids = append(ids, id)
		}
	}
	if len(ids) > 0 {
		e2e.Docker(t, append([]string{"rmi", "-f"}, ids...)...)
	}
}

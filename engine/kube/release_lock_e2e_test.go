package kube_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// phaseShared: api, 3 replicas of a Deployment sharing one ReadWriteMany
// claim, appends "started <version>" to /data/log as a replica starts; the
// before step appends "migrate <version>", the after step "after
// <version>"; AFTER makes the after step fail.
const phaseShared = `
services:
  api:
    build: ./api
    command: ["sh", "-c", "echo started $$(cat /version) >> /data/log; trap 'exit 0' TERM; sleep 3600 & wait"]
    volumes: [data:/data]
    stop_grace_period: 1s
    deploy: {replicas: 3}
volumes:
  data: {}
x-stack:
  kubernetes:
    volumes:
      data: {access: ReadWriteMany}
  release:
    before: [{service: api, command: ["sh", "-c", "echo migrate $$(cat /version) >> /data/log"]}]
    after: [{service: api, command: ["sh", "-c", "echo after $$(cat /version) >> /data/log; ${AFTER:-true}"]}]
  environments:
    lab: {orchestrator: kubernetes, namespace: NAMESPACE, registry: REGISTRY}
`

// TestReleasePhaseLockOnKubernetes: with 3 replicas sharing a claim, the
// before step runs once per deploy, before any replica of the new version
// starts, and after once all three are ready; an after step that fails
// under --lock rolls the environment back to the release before.
//
// Steps:
//
//	v1: release, up --lock current   -> log: migrate 1, started 1 x3, after 1
//	v2: release, up --lock current   -> then: migrate 2, started 2 x3, after 2
//	v3: release, up with AFTER=exit 5 -> exit 1 naming code 5 and the rollback to v2:
//	                                    api runs v2's digest
func TestReleasePhaseLockOnKubernetes(t *testing.T) {
	lab := e2e.Kube(t)
	ns := lab.KubeProject(t)
	removeImages(t, lab.Registry+"/"+ns+"/")
	dir := t.TempDir()
	compose := strings.NewReplacer("NAMESPACE", ns, "REGISTRY", lab.Registry+"/"+ns).Replace(phaseShared)
	e2e.WriteFiles(t, dir, map[string]string{
		"compose.yaml":   "name: " + ns + "\n" + compose,
		"api/Dockerfile": "FROM busybox:stable\nCOPY version /version\n",
	})
	stack := func(env ...string) e2e.Cmd {
		return e2e.Cmd{Dir: dir, Env: append(append(lab.Env(), "STACK_ENV=lab"), env...)}
	}
	release := func(n int) {
		t.Helper()
		e2e.WriteFiles(t, dir, map[string]string{"api/version": strconv.Itoa(n) + "\n"})
		stack().MustRun(t, "release", "--tag", "v"+strconv.Itoa(n))
	}
	running := func() string {
		return lab.Kubectl(t, "-n", ns, "get", "deploy/api", "-o", "jsonpath={.spec.template.spec.containers[0].image}")
	}
	log := func() string {
		return lab.Kubectl(t, "-n", ns, "exec", "deploy/api", "--", "sh", "-c", "tr '\\n' , < /data/log")
	}

	release(1)
	stack().MustRun(t, "up", "--lock", "current", "--timeout", "120s")
	if got, want := log(), "migrate 1,started 1,started 1,started 1,after 1,"; got != want {
		t.Errorf("after the first deploy the log is %q, want %q", got, want)
	}
	release(2)
	stack().MustRun(t, "up", "--lock", "current", "--timeout", "120s")
	v2 := running()
	if got, want := log(), "migrate 2,started 2,started 2,started 2,after 2,"; !strings.HasSuffix(got, want) {
		t.Errorf("the second deploy's log is %q, want it to end %q", got, want)
	}

	release(3)
	r := stack("AFTER=exit 5").Run(t, "up", "--lock", "current", "--timeout", "120s")
	if r.Code != 1 || !strings.Contains(r.Stderr, "code 5") || !strings.Contains(r.Stderr, "rolled back to v2") {
		t.Errorf("a failing after step under --lock: exit %d, want 1 naming code 5 and the rollback to v2\n%s", r.Code, r.Stderr)
	}
	if got := log(); !strings.Contains(got, "migrate 3,started 3,started 3,started 3,after 3,") {
		t.Errorf("the after step did not run once every v3 replica had started: %q", got)
	}
	if got := running(); got != v2 {
		t.Errorf("after the rollback api runs %s, want v2's %s", got, v2)
	}
}

// removeImages removes the main engine's images under prefix when t ends:
// what the test built and pushed to the lab's registry.
func removeImages(t *testing.T, prefix string) {
	t.Cleanup(func() {
		var ids []string
		for _, line := range strings.Split(e2e.Docker(t, "images", "--format", "{{.Repository}} {{.ID}}"), "\n") {
			if repo, id, _ := strings.Cut(line, " "); strings.HasPrefix(repo, prefix) {
				ids = append(ids, id)
			}
		}
		if len(ids) > 0 {
			e2e.Docker(t, append([]string{"rmi", "-f"}, ids...)...)
		}
	})
}

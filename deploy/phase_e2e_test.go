package deploy_test

import (
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// Intent: a release phase's before step runs exactly once per deploy, for
// a service of 3 replicas, before any replica of the new version starts;
// one that fails leaves the old version running, untouched, and stack
// exits 1 naming the step and its code.
//
// Model: api (busybox, 3 replicas) writes "started <V>" into the volume
// data when a replica starts; the before step writes "migrate".
//
// Steps:
//
//	V=1 stack up   -> started 1 x3, migrate before them (a first deploy's migration)
//	V=2 stack up   -> one more migrate, then started 2 x3
//	V=2 stack up   -> nothing changes: no migrate
//	V=3 stack up, the step failing with 3 -> exit 1 naming it and code 3; no started 3
func TestBeforeStepRunsOnceBeforeTheNewVersion(t *testing.T) {
	e2e.Engine(t)
	project := e2e.ProjectName(t)
	dir := t.TempDir()
	compose := `name: ` + project + `
services:
  api:
    image: busybox:stable
    environment: {V: "${V}"}
    command: ["sh", "-c", "echo started $$V >> /data/log; exec sleep 3600"]
    volumes: [data:/data]
    deploy: {replicas: 3}
volumes:
  data: {}
x-stack:
  release:
    before: [{service: api, command: ["sh", "-c", "${STEP}"]}]
    after: [{service: api, command: ["sh", "-c", "${AFTER:-true}"]}]
`
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": compose})
	up := func(v, step string) e2e.Result {
		return e2e.Cmd{Dir: dir, Env: []string{"V=" + v, "STEP=" + step}}.Run(t, "up", "--timeout", "2m")
	}
	log := func() []string {
		r := e2e.Cmd{Dir: dir, Env: []string{"V=1", "STEP=true"}}.MustRun(t, "exec", "api", "cat", "/data/log")
		return strings.Split(strings.TrimSpace(r.Stdout), "\n")
	}
	migrate := "echo migrate >> /data/log"
	if r := up("1", migrate); r.Code != 0 {
		t.Fatalf("first up: exit %d\n%s", r.Code, r.Stderr)
	}
	if got, want := strings.Join(log(), ","), "migrate,started 1,started 1,started 1"; got != want {
		t.Errorf("after the first deploy the log is %q, want %q", got, want)
	}
	if r := up("2", migrate); r.Code != 0 {
		t.Fatalf("second up: exit %d\n%s", r.Code, r.Stderr)
	}
	got := log()
	if n := strings.Count(strings.Join(got, ","), "migrate"); n != 2 {
		t.Errorf("migrate ran %d times in two deploys, want 2: %v", n, got)
	}
	if strings.Join(got[4:], ",") != "migrate,started 2,started 2,started 2" {
		t.Errorf("the second deploy's log is %v, want its migrate before its 3 replicas started", got[4:])
	}
	if r := up("2", migrate); r.Code != 0 || len(log()) != len(got) {
		t.Errorf("an up that changes nothing: exit %d, log %v; want no step run", r.Code, log())
	}
	r := up("3", "exit 3")
	if r.Code != 1 || !strings.Contains(r.Stderr, "api: sh -c exit 3") || !strings.Contains(r.Stderr, "code 3") {
		t.Errorf("a failing step: exit %d, stderr:\n%s\nwant 1 naming the step and its code", r.Code, r.Stderr)
	}
	if strings.Contains(strings.Join(log(), ","), "started 3") {
		t.Errorf("a replica of the new version started although its before step failed: %v", log())
	}
	ps := e2e.Cmd{Dir: dir, Env: []string{"V=2", "STEP=true"}}.MustRun(t, "ps")
	if n := strings.Count(ps.Stdout, "running"); n != 3 {
		t.Errorf("after the failed deploy %d replicas run, want the 3 old ones:\n%s", n, ps.Stdout)
	}

	// An after step that fails in an atomic deploy rolls it back: the
	// replicas of version 4 ran, and the old ones serve again.
	r = e2e.Cmd{Dir: dir, Env: []string{"V=4", "STEP=true", "AFTER=exit 5"}}.Run(t, "up", "--atomic", "--timeout", "2m")
	if r.Code != 1 || !strings.Contains(r.Stderr, "api: sh -c exit 5") || !strings.Contains(r.Stderr, "code 5") {
		t.Errorf("a failing after step under --atomic: exit %d, stderr:\n%s\nwant 1 naming the step and its code", r.Code, r.Stderr)
	}
	if !strings.Contains(strings.Join(log(), ","), "started 4") {
		t.Errorf("the after step ran before version 4 started: %v", log())
	}
	env := e2e.Cmd{Dir: dir, Env: []string{"V=2", "STEP=true"}}.MustRun(t, "exec", "api", "sh", "-c", "echo $V")
	if strings.TrimSpace(env.Stdout) != "2" {
		t.Errorf("after the rolled back deploy api runs V=%q, want the old 2", strings.TrimSpace(env.Stdout))
	}
}

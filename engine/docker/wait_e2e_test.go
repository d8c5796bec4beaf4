package docker_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

// A healthcheck that never passes. Model: db (fails its healthcheck, logs a
// line), web depends on db being healthy, other is independent. Steps: up ->
// non-zero exit; web is never created and reported skipped; other runs; the
// error shows db's logs.
func TestUnhealthyDependency(t *testing.T) {
	c, project := stack(t, `
services:
  db:
    image: busybox:stable
    init: true
    command: ["sh", "-c", "echo db cannot start its engine; sleep 3600"]
    healthcheck: {test: ["CMD", "false"], interval: 500ms, retries: 2}
  web:
    image: busybox:stable
    init: true
    command: ["sleep", "3600"]
    depends_on:
      db: {condition: service_healthy}
  other:
    image: busybox:stable
    init: true
    command: ["sleep", "3600"]
`)
	r := c.Run(t, "up")
	if r.Code == 0 {
		t.Fatal("up succeeded with an unhealthy dependency")
	}
	for _, want := range []string{
		`service "db": container ` + project + `-db-1 is unhealthy`,
		"db cannot start its engine",
	} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if !containsLine(r.Stderr, "service:web", "skipped") {
		t.Errorf("web not reported skipped")
	}
	got := ids(t, project)
	if _, ok := got[project+"-web-1"]; ok {
		t.Errorf("web was created despite its unhealthy dependency")
	}
	if _, ok := got[project+"-other-1"]; !ok {
		t.Errorf("the independent service other was not started")
	}
}

// service_completed_successfully with a one-shot migration. Model: migrate
// writes a marker into a shared volume and exits 0; app starts only after it,
// and checks the marker. Steps: up -> app runs; up again -> nothing changes
// (the completed migration is not re-run); a failing migration -> up fails
// with its exit code and app is skipped.
func TestCompletedSuccessfully(t *testing.T) {
	const compose = `
services:
  migrate:
    image: busybox:stable
    command: ["sh", "-c", "echo migrating; echo done > /data/migrated; exit EXIT"]
    volumes: ["data:/data"]
  app:
    image: busybox:stable
    init: true
    command: ["sh", "-c", "test -f /data/migrated && exec sleep 3600"]
    volumes: ["data:/data"]
    depends_on:
      migrate: {condition: service_completed_successfully}
volumes:
  data: {}
`
	c, project := stack(t, strings.Replace(compose, "EXIT", "0", 1))
	c.MustRun(t, "up")
	if state := e2e.Docker(t, "inspect", "-f", "{{.State.Status}}", project+"-app-1"); state != "running" {
		t.Fatalf("app is %s, want running after the migration", state)
	}
	first := ids(t, project)
	if r := c.Run(t, "plan", "--detailed-exitcode"); r.Code != 0 {
		t.Fatalf("plan after up: exit %d, want 0: a completed migration is not re-run\n%s", r.Code, r.Stdout)
	}
	c.MustRun(t, "up")
	if again := ids(t, project); !equal(first, again) {
		t.Fatalf("second up replaced containers: %v -> %v", first, again)
	}

	c.MustRun(t, "down", "-v")
	write(t, c.Dir, "name: "+project+"\n"+strings.Replace(compose, "EXIT", "3", 1))
	r := c.Run(t, "up")
	if r.Code == 0 {
		t.Fatal("up succeeded with a failing migration")
	}
	if want := `service "migrate": container ` + project + `-migrate-1 exited with code 3`; !strings.Contains(r.Stderr, want) {
		t.Errorf("stderr lacks %q", want)
	}
	if !strings.Contains(r.Stderr, "migrating") {
		t.Errorf("stderr lacks the migration's log line")
	}
	if !containsLine(r.Stderr, "service:app", "skipped") {
		t.Errorf("app not reported skipped")
	}
}

// gated is db, healthy only once the test creates /ready, and web, which
// depends on it with CONDITION.
const gated = `
services:
  db:
    image: busybox:stable
    init: true
    command: ["sleep", "3600"]
    healthcheck: {test: ["CMD", "test", "-f", "/ready"], interval: 500ms, retries: 1000}
  web:
    image: busybox:stable
    init: true
    command: ["sleep", "3600"]
    depends_on:
      db: {condition: CONDITION}
`

// startUp starts `stack up` in c.Dir in the background; the test waits for
// it or kills it at the end.
func startUp(t *testing.T, c e2e.Cmd) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(e2e.Binary(t), "up")
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), "CI=true")
	stderr := &strings.Builder{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, stderr
}

// waitRunning polls until container runs, failing after 30 s with what up
// said.
func waitRunning(t *testing.T, container string, stderr *strings.Builder) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for e2e.Docker(t, "ps", "-q", "--filter", "name=^"+container+"$", "--filter", "status=running") == "" {
		if time.Now().After(deadline) {
			t.Fatalf("%s is not running after 30 s:\n%s", container, stderr.String())
		}
		time.Sleep(50 * time.Millisecond) // polling the engine with a deadline
	}
}

// Ctrl-C during up. Model: db becomes healthy only once /ready exists; web
// waits for it. Steps: up, interrupted (SIGINT) while it waits for db ->
// exit 130, web not created; db made healthy, up again -> converges, web
// runs.
func TestInterruptedUp(t *testing.T) {
	c, project := stack(t, strings.Replace(gated, "CONDITION", "service_healthy", 1))
	cmd, stderr := startUp(t, c)
	waitRunning(t, project+"-db-1", stderr)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Fatalf("interrupted up: %v, want exit 130\n%s", err, stderr.String())
	}
	if _, ok := ids(t, project)[project+"-web-1"]; ok {
		t.Errorf("web was created although up was interrupted before db was healthy")
	}
	e2e.Docker(t, "exec", project+"-db-1", "touch", "/ready")
	c.MustRun(t, "up")
	if state := e2e.Docker(t, "inspect", "-f", "{{.State.Status}}", project+"-web-1"); state != "running" {
		t.Fatalf("web is %q after the second up, want running", state)
	}
}

// --timeout bounds the wait. Model: db's healthcheck never passes and, in a
// long start period, never turns unhealthy either. Steps: up --timeout 2s ->
// exit 1 with an error naming db, the condition and the timeout.
func TestUpTimeout(t *testing.T) {
	c, project := stack(t, `
services:
  db:
    image: busybox:stable
    init: true
    command: ["sleep", "3600"]
    healthcheck: {test: ["CMD", "false"], interval: 1s, start_period: 5m}
`)
	r := c.Run(t, "up", "--timeout", "2s")
	if want := `service "db": container ` + project + `-db-1 not healthy after 2s (--timeout)`; r.Code != 1 || !strings.Contains(r.Stderr, want) {
		t.Fatalf("up --timeout 2s: exit %d, want 1 and %q", r.Code, want)
	}
}

// A dependant that needs its dependency started only does not wait for its
// healthcheck. Model: db turns healthy only once /ready exists; web depends
// on db with service_started. Steps: up, in the background -> web runs while
// db is still unhealthy; the test then makes db healthy -> up returns 0.
func TestServiceStartedDoesNotWaitForHealth(t *testing.T) {
	c, project := stack(t, strings.Replace(gated, "CONDITION", "service_started", 1))
	up, stderr := startUp(t, c)
	waitRunning(t, project+"-web-1", stderr)
	if h := e2e.Docker(t, "inspect", "-f", "{{.State.Health.Status}}", project+"-db-1"); h == "healthy" {
		t.Fatalf("db is already healthy: the test proves nothing")
	}
	e2e.Docker(t, "exec", project+"-db-1", "touch", "/ready")
	if err := up.Wait(); err != nil {
		t.Fatalf("up: %v\n%s", err, stderr.String())
	}
	if h := e2e.Docker(t, "inspect", "-f", "{{.State.Health.Status}}", project+"-db-1"); h != "healthy" {
		t.Fatalf("up returned with db %s, want healthy", h)
	}
}

// service_healthy with the healthcheck in the image, and with none at all.
// Model: api's and solo's image declares HEALTHCHECK (the compose file does
// not); web waits for api healthy. Steps: up -> returns with api and solo
// healthy. Then
// the dependency is a plain busybox without a healthcheck -> up fails saying
// so and how to fix it.
func TestServiceHealthyImageHealthcheck(t *testing.T) {
	e2e.Engine(t)
	tag := "stack-e2e-healthy:" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	e2e.DockerfileImage(t, tag, "FROM busybox:stable\nHEALTHCHECK --interval=500ms CMD true\n")
	const compose = `
services:
  api:
    image: IMAGE
    init: true
    command: ["sleep", "3600"]
  solo:
    image: IMAGE
    init: true
    command: ["sleep", "3600"]
  web:
    image: busybox:stable
    init: true
    command: ["sleep", "3600"]
    depends_on:
      api: {condition: service_healthy}
`
	c, project := stack(t, strings.ReplaceAll(compose, "IMAGE", tag))
	c.MustRun(t, "up")
	for _, svc := range []string{"api", "solo"} {
		// solo: nothing waits for it, but up returns once it is healthy.
		if h := e2e.Docker(t, "inspect", "-f", "{{.State.Health.Status}}", project+"-"+svc+"-1"); h != "healthy" {
			t.Fatalf("%s is %q after up, want healthy", svc, h)
		}
	}
	c.MustRun(t, "down")

	write(t, c.Dir, "name: "+project+"\n"+strings.ReplaceAll(compose, "IMAGE", "busybox:stable"))
	r := c.Run(t, "up")
	if want := `compose.yaml:17: service "web": depends_on.api: condition service_healthy, but service "api" has no healthcheck`; r.Code != 1 || !strings.Contains(r.Stderr, want) {
		t.Fatalf("up: exit %d, want 1 and %q", r.Code, want)
	}
	// Known from the image before anything changed: nothing was created.
	if ids := e2e.Docker(t, "ps", "-aq", "--filter", "label="+e2e.Label+"="+project); ids != "" {
		t.Errorf("containers after a refused plan: %s", ids)
	}
}

// depends_on with required: false. Model: db never turns healthy; web waits
// for it healthy but does not require it. Steps: up -> exit 1 for db, and
// web runs all the same.
func TestOptionalDependencyFailure(t *testing.T) {
	c, project := stack(t, `
services:
  db:
    image: busybox:stable
    init: true
    command: ["sleep", "3600"]
    healthcheck: {test: ["CMD", "false"], interval: 500ms, retries: 2}
  web:
    image: busybox:stable
    init: true
    command: ["sleep", "3600"]
    depends_on:
      db: {condition: service_healthy, required: false}
`)
	r := c.Run(t, "up")
	if r.Code != 1 || !strings.Contains(r.Stderr, `service "db": container `+project+`-db-1 is unhealthy`) {
		t.Fatalf("up: exit %d, want 1 with db's failure", r.Code)
	}
	if state := e2e.Docker(t, "inspect", "-f", "{{.State.Status}}", project+"-web-1"); state != "running" {
		t.Fatalf("web is %q, want running: db is not required", state)
	}
}

package release_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/deploy"
	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/internal/e2e"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/release"
)

// Intent: a release phase runs each step once, as a one-off container of
// its service with the service's volumes, environment and injected
// addresses, streams its output under the step's name, removes the
// container, and stops at the first step that fails, naming it and its
// exit code.
//
// Model: api (busybox) depends on cache (busybox, expose 6379) and mounts
// the named volume data at /data.
//
// Steps:
//
//	stack up                                  -> api and cache run
//	RunPhase [migrate, check address]         -> nil; "api: sh -c ... | migrated" lines;
//	                                             /data/migrations holds one line; no one-off left
//	RunPhase [migrate, fail with 3, never]    -> StepError naming "fail", code 3; /data/migrations
//	                                             holds two lines; the third step did not run
func TestRunPhaseOnEngine(t *testing.T) {
	e2e.Engine(t)
	project := e2e.ProjectName(t)
	dir := t.TempDir()
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": `name: ` + project + `
services:
  cache:
    image: busybox:stable
    command: ["sleep", "3600"]
    expose: ["6379"]
  api:
    image: busybox:stable
    command: ["sleep", "3600"]
    depends_on: [cache]
    environment:
      GREETING: hello
    volumes: [data:/data]
volumes:
  data:
`})
	stack := e2e.Cmd{Dir: dir}
	stack.MustRun(t, "up")

	ctx := t.Context()
	p, err := manifest.Load(ctx, manifest.Options{Files: []string{filepath.Join(dir, "compose.yaml")}})
	if err != nil {
		t.Fatal(err)
	}
	target, err := deploy.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if _, err := target.Prepare(ctx, p, []string{"api"}, image.EnsureOptions{}); err != nil {
		t.Fatal(err)
	}
	runner, err := engine.Capability[engine.Runner](target.Driver, "release")
	if err != nil {
		t.Fatal(err)
	}
	step := func(script string) manifest.Step {
		return manifest.Step{Service: "api", Command: manifest.Command{"sh", "-c", script}}
	}
	migrate := step(`echo "$GREETING" >> /data/migrations && echo migrated`)
	address := step(`test -n "$CACHE_HOST" && echo "cache at $CACHE_HOST:$CACHE_PORT"`)

	var out strings.Builder
	if err := release.RunPhase(ctx, runner, p, []manifest.Step{migrate, address}, &out); err != nil {
		t.Fatalf("RunPhase: %v\n%s", err, out.String())
	}
	mustHave(t, out.String(), migrate.Name()+" | migrated\n", address.Name()+" | cache at ")
	if got := volumeFile(t, stack); got != "hello\n" {
		t.Errorf("/data/migrations = %q after one run of the phase, want one line", got)
	}
	if left := e2e.Docker(t, "ps", "-aq", "--filter", "label=io.stack.project="+project, "--filter", "label=io.stack.oneoff=true"); left != "" {
		t.Errorf("one-off containers left behind: %s", left)
	}

	out.Reset()
	fail := step(`echo "about to fail" >&2; exit 3`)
	never := step(`echo never >> /data/migrations`)
	err = release.RunPhase(ctx, runner, p, []manifest.Step{migrate, fail, never}, &out)
	var se *release.StepError
	if !errors.As(err, &se) || se.Code != 3 || se.Step != fail.Name() || !strings.Contains(err.Error(), `exited with code 3`) {
		t.Fatalf("RunPhase with a failing step: %v, want a StepError naming %q with code 3", err, fail.Name())
	}
	mustHave(t, out.String(), fail.Name()+" | about to fail\n")
	if got := volumeFile(t, stack); got != "hello\nhello\n" {
		t.Errorf("/data/migrations = %q: the step after the failure ran, or the first did not", got)
	}
}

// volumeFile reads /data/migrations in api's running container.
func volumeFile(t *testing.T, stack e2e.Cmd) string {
	t.Helper()
	return stack.MustRun(t, "exec", "api", "cat", "/data/migrations").Stdout
}

func mustHave(t *testing.T, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Errorf("output lacks %q:\n%s", p, s)
		}
	}
}

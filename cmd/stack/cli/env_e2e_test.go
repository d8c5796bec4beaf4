package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestEnvE2E: `stack env` reads the ports an image EXPOSEs from the real
// engine.
//
// Model: web depends on redis (redis:7-alpine stand-in, EXPOSE 6379, no
// ports in the manifest), worker (busybox: no EXPOSE) and later (an image
// the engine does not have).
//
//	stack env web                 -> REDIS_HOST=redis, REDIS_PORT=6379 injected from redis;
//	                                 WORKER_HOST, LATER_HOST only, and why not their ports
//	stack env web --format json   -> the same, marked injected from redis
//	stack env redis               -> no variables
func TestEnvE2E(t *testing.T) {
	stack := project(t, `
services:
  web:
    image: busybox:stable
    depends_on: [redis, worker, later]
    environment:
      GREETING: hello
      REDIS_URL: "redis://{{redis.host}}:{{redis.port}}/0"
  redis:
    image: redis:7-alpine
  worker:
    image: busybox:stable
  later:
    image: stack-e2e-never-built:none
`)

	out := stack.MustRun(t, "env", "web").Stdout
	for _, want := range []string{
		"GREETING=hello ",
		"REDIS_URL=redis://redis:6379/0 ",
		"REDIS_HOST=redis ",
		"REDIS_PORT=6379 ",
		"# injected from redis (EXPOSE of the image of redis)",
		"WORKER_HOST=worker ",
		"LATER_HOST=later ",
		"# no WORKER_PORT: worker declares no expose or ports, and its image declares no EXPOSE",
		"# no LATER_PORT: later declares no expose or ports, and the ports of its image are unknown",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stack env web: want %q in:\n%s", want, out)
		}
	}
	for _, unwanted := range []string{"WORKER_PORT=", "LATER_PORT="} {
		if strings.Contains(out, unwanted) {
			t.Errorf("stack env web: %q without a port to give:\n%s", unwanted, out)
		}
	}

	var report struct {
		Service   string
		Variables []struct{ Name, Value, Origin, From string }
	}
	if err := json.Unmarshal([]byte(stack.MustRun(t, "env", "web", "--format", "json").Stdout), &report); err != nil {
		t.Fatalf("stack env --format json: %v", err)
	}
	got := map[string]string{}
	for _, v := range report.Variables {
		got[v.Name] = v.Value + " " + v.Origin + " " + v.From
	}
	for name, want := range map[string]string{
		"REDIS_PORT": "6379 injected redis",
		"REDIS_HOST": "redis injected redis",
		"GREETING":   "hello declared ",
	} {
		if got[name] != want {
			t.Errorf("json %s = %q, want %q", name, got[name], want)
		}
	}

	if out := stack.MustRun(t, "env", "redis").Stdout; !strings.Contains(out, "# no variables") {
		t.Errorf("stack env redis: want no variables, got:\n%s", out)
	}
	if r := stack.Run(t, "env", "nosuch"); r.Code != 1 || !strings.Contains(r.Stderr, `no service "nosuch"`) {
		t.Errorf("stack env nosuch: exit %d, stderr %q; want 1 naming the service", r.Code, r.Stderr)
	}
}

// TestConfigInjectE2E: `stack config` prints the model with the injected
// addresses; --no-inject prints it as docker compose config would.
//
//	stack config                     -> web's environment has REDIS_HOST and REDIS_PORT
//	stack config --format json       -> the same
//	stack config --no-inject         -> neither
func TestConfigInjectE2E(t *testing.T) {
	stack := project(t, `
services:
  web: {image: busybox:stable, depends_on: [redis]}
  redis: {image: redis:7-alpine}
`)

	yaml := stack.MustRun(t, "config").Stdout
	for _, want := range []string{"REDIS_HOST: redis", `REDIS_PORT: "6379"`} {
		if !strings.Contains(yaml, want) {
			t.Errorf("stack config: want %q in:\n%s", want, yaml)
		}
	}
	var model struct {
		Services map[string]struct{ Environment map[string]string }
	}
	if err := json.Unmarshal([]byte(stack.MustRun(t, "config", "--format", "json").Stdout), &model); err != nil {
		t.Fatal(err)
	}
	if env := model.Services["web"].Environment; env["REDIS_HOST"] != "redis" || env["REDIS_PORT"] != "6379" {
		t.Errorf("stack config --format json: web environment %v, want REDIS_HOST=redis REDIS_PORT=6379", env)
	}
	if plain := stack.MustRun(t, "config", "--no-inject").Stdout; strings.Contains(plain, "REDIS_") {
		t.Errorf("stack config --no-inject shows injected variables:\n%s", plain)
	}
}

// TestEnvTemplateErrorE2E: a template naming an unknown service fails with
// exit 1 and a message naming the file and line, the service and the
// variable, and listing the services.
func TestEnvTemplateErrorE2E(t *testing.T) {
	stack := project(t, `
services:
  web:
    image: busybox:stable
    environment:
      DATABASE_URL: "postgres://app@{{dbx.host}}:{{db.port}}/shop"
  db: {image: busybox:stable, expose: ["5432"]}
`)
	for _, args := range [][]string{{"env", "web"}, {"config"}} {
		r := stack.Run(t, args...)
		want := `compose.yaml:6: service "web": environment.DATABASE_URL: {{dbx.host}}: no service "dbx" in the stack; use one of [db web]`
		if r.Code != 1 || !strings.Contains(r.Stderr, want) {
			t.Errorf("stack %s: exit %d, stderr %q; want 1 and %q", strings.Join(args, " "), r.Code, r.Stderr, want)
		}
	}
}

// project writes compose.yaml into a new directory and returns a runner there
// with a unique project name.
func project(t *testing.T, compose string) e2e.Cmd {
	t.Helper()
	e2e.Engine(t)
	dir := t.TempDir()
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": compose})
	return e2e.Cmd{Dir: dir, Env: []string{"COMPOSE_PROJECT_NAME=" + e2e.ProjectName(t)}}
}

package cli_test

import (
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestTemplateOnUnbuiltImageE2E: a {{db.port}} template whose port only the
// db image's EXPOSE gives, before that image is built.
//
// Model: web (busybox) with DATABASE_URL templated on db; db built from a
// Dockerfile that EXPOSEs 5432, no ports in the manifest.
//
//	stack plan                 -> exit 0: creates both (the plan builds nothing, so the port is pending)
//	stack env web              -> DATABASE_URL still shows {{db.port}}
//	stack up --no-deps web     -> exit 1 naming web, DATABASE_URL and {{db.port}}; nothing created
//	stack up                   -> builds db; web runs with DATABASE_URL=postgres://app@db:5432/shop
func TestTemplateOnUnbuiltImageE2E(t *testing.T) {
	stack := project(t, `
services:
  web:
    image: busybox:stable
    command: ["sleep", "3600"]
    init: true
    environment:
      DATABASE_URL: "postgres://app@{{db.host}}:{{db.port}}/shop"
  db:
    build: ./db
    command: ["sleep", "3600"]
    init: true
`)
	e2e.WriteFiles(t, stack.Dir, map[string]string{"db/Dockerfile": "FROM busybox:stable\nEXPOSE 5432\n"})
	name := strings.TrimPrefix(stack.Env[0], "COMPOSE_PROJECT_NAME=")
	// -f: this runs before the project cleanup has removed the containers.
	t.Cleanup(func() { e2e.Docker(t, "rmi", "-f", name+"-db") })

	plan := stack.MustRun(t, "plan").Stdout
	if !strings.Contains(plan, "service:web") || !strings.Contains(plan, "service:db") {
		t.Errorf("plan:\n%s", plan)
	}
	if env := stack.MustRun(t, "env", "web").Stdout; !strings.Contains(env, "{{db.port}} pending") {
		t.Errorf("env web before db is built: want the pending template shown:\n%s", env)
	}
	r := stack.Run(t, "up", "--no-deps", "web")
	if r.Code != 1 || !strings.Contains(r.Stderr, `service "web": DATABASE_URL: {{db.port}}`) {
		t.Errorf("up --no-deps web: exit %d, stderr %q", r.Code, r.Stderr)
	}
	if ids := e2e.Docker(t, "ps", "-aq", "--filter", "label="+e2e.Label+"="+name); ids != "" {
		t.Errorf("the refused up created containers: %s", ids)
	}
	stack.MustRun(t, "up")
	if out := stack.MustRun(t, "exec", "web", "sh", "-c", "echo $DATABASE_URL").Stdout; out != "postgres://app@db:5432/shop\n" {
		t.Errorf("web's DATABASE_URL = %q", out)
	}
}

package docker_test

import (
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

const injectCompose = `
x-stack:
  inject:
    prefix: {cache: REDIS}
services:
  app:
    image: ` + kvImage + `
    ports: ["127.0.0.1::8080"]
    depends_on:
      cache: {condition: service_healthy}
  cache:
    image: redis:7-alpine
    healthcheck:
      test: ["CMD", "redis-cli", "ping"]
      interval: 1s
      retries: 30
  quiet:
    image: busybox:stable
    init: true
    command: ["sleep", "3600"]
    depends_on: [cache]
    x-stack: {inject: {mode: none}}
  other:
    image: busybox:stable
    init: true
    command: ["sleep", "3600"]
    depends_on: [db]
  db:
    image: busybox:stable
    init: true
    command: ["sleep", "3600"]
    expose: ["5432"]
`

// cacheOn6380 moves the cache to port 6380: its address changes.
var cacheOn6380 = strings.NewReplacer(
	`    image: redis:7-alpine
`, `    image: redis:7-alpine
    command: ["redis-server", "--port", "6380", "--protected-mode", "no"]
    expose: ["6380"]
`,
	`["CMD", "redis-cli", "ping"]`, `["CMD", "redis-cli", "-p", "6380", "ping"]`,
)

// Address injection end to end. Model: app knows Redis only through
// REDIS_HOST/REDIS_PORT, and depends on a service named cache, renamed to the
// REDIS prefix in x-stack; the cache declares no ports (its image EXPOSEs
// 6379); quiet depends on the cache but takes no addresses (mode none); other
// depends on db, unrelated. Steps:
//
//	up                        -> app's environment is REDIS_HOST=cache REDIS_PORT=6379;
//	                             a value stored through app's published port reads back
//	cache moves to port 6380  -> plan: app and cache recreated, nothing else;
//	up                        -> exactly app and cache replaced; app reaches the cache on 6380
func TestInjectionE2E(t *testing.T) {
	c, project := stack(t, injectCompose)
	e2e.GoImage(t, kvImage, "./engine/docker/testdata/kv", "8080/tcp")
	name := func(svc string) string { return project + "-" + svc + "-1" }

	c.MustRun(t, "up")
	base := "http://" + e2e.Docker(t, "port", name("app"), "8080/tcp")
	if got := get(t, base+"/env"); got != "REDIS_HOST=cache REDIS_PORT=6379\n" {
		t.Fatalf("app environment: %q, want the injected, renamed cache address", got)
	}
	storeAndRead(t, base, "v1")
	first := ids(t, project)

	write(t, c.Dir, "name: "+project+"\n"+cacheOn6380.Replace(injectCompose))
	env := c.MustRun(t, "env", "app").Stdout
	if !strings.Contains(env, "REDIS_PORT=6380 ") {
		t.Fatalf("stack env app after the move: want REDIS_PORT=6380 in\n%s", env)
	}
	plan := c.Run(t, "plan", "--detailed-exitcode")
	if plan.Code != 2 || !containsLine(plan.Stdout, "service:app", "recreate", "environment") || !containsLine(plan.Stdout, "service:cache", "recreate") {
		t.Fatalf("plan after the cache moved: exit %d, want 2 with app and cache recreated\n%s", plan.Code, plan.Stdout)
	}
	for _, svc := range []string{"quiet", "other", "db"} {
		if containsLine(plan.Stdout, "service:"+svc, "recreate") {
			t.Errorf("plan recreates %s, which does not use the cache's address\n%s", svc, plan.Stdout)
		}
	}

	c.MustRun(t, "up")
	after := ids(t, project)
	for _, svc := range []string{"app", "cache", "quiet", "other", "db"} {
		replaced := after[name(svc)] != first[name(svc)]
		if want := svc == "app" || svc == "cache"; replaced != want {
			t.Errorf("%s replaced: %v, want %v", svc, replaced, want)
		}
	}
	base = "http://" + e2e.Docker(t, "port", name("app"), "8080/tcp")
	if got := get(t, base+"/env"); got != "REDIS_HOST=cache REDIS_PORT=6380\n" {
		t.Fatalf("app environment after the move: %q", got)
	}
	storeAndRead(t, base, "v2")
}

// storeAndRead stores value through the app at base and reads it back: the
// app reaches the cache.
func storeAndRead(t *testing.T, base, value string) {
	t.Helper()
	if got := get(t, base+"/set?key=k&value="+value); got != "OK" {
		t.Fatalf("set: %q", got)
	}
	if got := get(t, base+"/get?key=k"); got != value {
		t.Fatalf("get: %q, want %s", got, value)
	}
}

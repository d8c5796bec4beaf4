package cli_test

import (
	"encoding/json"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestDayTwoVerbsE2E drives ps, logs, run, stop, start and restart against
// the real engine.
//
// Model: api (busybox, prints a line then sleeps, depends on cache) and
// cache (redis stand-in with a healthcheck).
//
//	up                         -> both running
//	ps / ps --format json      -> both listed, cache healthy, api's published port shown
//	logs api                   -> "api-1  | api ready", nothing from cache
//	run --rm api sh -c ...     -> sees CACHE_HOST/CACHE_PORT; its exit code (7) is stack's; no container left
//	run --rm -i api cat        -> stdin reaches the container
//	exec cache redis-cli ping  -> PONG; exec's exit code and stdin as run's
//	stop                       -> both exited, still listed by ps -a, not by ps
//	start                      -> both running again, the same containers
//	restart api                -> api's container restarted (new start time), cache untouched
//	run api true; down         -> the run's container stays, exited (no --rm); down removes it
//	                              with the others (Compose's leaves it, and the network)
func TestDayTwoVerbsE2E(t *testing.T) {
	stack := project(t, `
services:
  api:
    image: busybox:stable
    command: ["sh", "-c", "echo api ready; exec sleep 3600"]
    stop_signal: SIGKILL
    ports: ["127.0.0.1::8080"]
    depends_on:
      cache: {condition: service_healthy}
  cache:
    image: redis:7-alpine
    healthcheck: {test: ["CMD", "redis-cli", "ping"], interval: 500ms, retries: 40}
`)
	stack.MustRun(t, "up")

	ps := stack.MustRun(t, "ps").Stdout
	if !strings.Contains(ps, "-api-1") || !strings.Contains(ps, "-cache-1") || !strings.Contains(ps, "healthy") || !strings.Contains(ps, "->8080/tcp") {
		t.Errorf("ps: want api and a healthy cache with api's published port:\n%s", ps)
	}
	var rows []struct {
		Service string   `json:"service"`
		State   string   `json:"state"`
		Health  string   `json:"health"`
		Ports   []string `json:"ports"`
		ID      string   `json:"id"`
		Started string   `json:"started"`
	}
	if err := json.Unmarshal([]byte(stack.MustRun(t, "ps", "--format", "json").Stdout), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Service != "api" || rows[1].Health != "healthy" || rows[0].State != "running" {
		t.Fatalf("ps --format json: %+v", rows)
	}

	logs := stack.MustRun(t, "logs", "api").Stdout
	if !strings.Contains(logs, "api-1  | api ready\n") || strings.Contains(logs, "cache-1") {
		t.Errorf("logs api:\n%s", logs)
	}
	// The prefixes are padded to the longest container name seen.
	if grep := stack.MustRun(t, "logs", "--grep", "(?i)READY|accept").Stdout; !regexp.MustCompile(`api-1 +\| api ready\n`).MatchString(grep) || !strings.Contains(grep, "cache-1") || strings.Contains(grep, "Server initialized") {
		t.Errorf("logs --grep (?i)READY|accept: want api's line and cache's lines with ready or accept only:\n%s", grep)
	}
	if r := stack.Run(t, "logs", "--grep", "("); r.Code == 0 || !strings.Contains(r.Stderr, `--grep "("`) {
		t.Errorf("logs --grep of a bad expression: exit %d %q", r.Code, r.Stderr)
	}

	r := stack.Run(t, "run", "--rm", "api", "sh", "-c", "echo $CACHE_HOST:$CACHE_PORT; exit 7")
	if r.Code != 7 || !strings.Contains(r.Stdout, "cache:6379") {
		t.Errorf("run: exit %d, stdout %q; want 7 and cache:6379", r.Code, r.Stdout)
	}
	in := e2e.Cmd{Dir: stack.Dir, Env: stack.Env, Stdin: "from stdin\n"}
	if out := in.MustRun(t, "run", "--rm", "-i", "api", "cat").Stdout; out != "from stdin\n" {
		t.Errorf("run -i cat: stdout %q", out)
	}
	if all := stack.MustRun(t, "ps", "-a").Stdout; strings.Contains(all, "-run-") {
		t.Errorf("run --rm left a container:\n%s", all)
	}
	// cache's image declares VOLUME /data: as docker run --rm, the one-off's
	// anonymous volume goes with it.
	since := time.Now().Add(-time.Second).Unix()
	host := strings.TrimSpace(stack.MustRun(t, "run", "--rm", "--no-deps", "cache", "hostname").Stdout)
	mounts := e2e.Docker(t, "events", "--since", strconv.FormatInt(since, 10), "--until", strconv.FormatInt(time.Now().Unix()+1, 10),
		"--filter", "type=volume", "--filter", "event=mount", "--format", "{{.Actor.ID}} {{index .Actor.Attributes \"container\"}}")
	var anon string
	for _, line := range strings.Split(mounts, "\n") {
		if vol, ctr, ok := strings.Cut(line, " "); ok && host != "" && strings.HasPrefix(ctr, host) {
			anon = vol
		}
	}
	if anon == "" {
		t.Fatalf("no volume mount event for the one-off container %q:\n%s", host, mounts)
	}
	if out, err := exec.Command("docker", "volume", "inspect", anon).CombinedOutput(); err == nil {
		t.Errorf("run --rm left the one-off's anonymous volume %s:\n%s", anon, out)
	}

	if out := stack.MustRun(t, "exec", "cache", "redis-cli", "ping").Stdout; out != "PONG\n" {
		t.Errorf("exec cache redis-cli ping: %q", out)
	}
	if r := stack.Run(t, "exec", "-e", "CODE=5", "api", "sh", "-c", "exit $CODE"); r.Code != 5 {
		t.Errorf("exec exit $CODE: exit %d, want 5", r.Code)
	}
	if out := in.MustRun(t, "exec", "api", "cat").Stdout; out != "from stdin\n" {
		t.Errorf("exec api cat: stdout %q", out)
	}

	stack.MustRun(t, "stop")
	if r := stack.Run(t, "exec", "api", "true"); r.Code != 1 || !strings.Contains(r.Stderr, "no running container") {
		t.Errorf("exec on a stopped service: exit %d, stderr %q", r.Code, r.Stderr)
	}
	if ps := stack.MustRun(t, "ps").Stdout; strings.Contains(ps, "running") {
		t.Errorf("ps after stop lists running containers:\n%s", ps)
	}
	if all := stack.MustRun(t, "ps", "-a").Stdout; strings.Count(all, "exited") != 2 {
		t.Errorf("ps -a after stop: want both exited:\n%s", all)
	}

	stack.MustRun(t, "start")
	var again []struct {
		ID      string `json:"id"`
		State   string `json:"state"`
		Started string `json:"started"`
	}
	if err := json.Unmarshal([]byte(stack.MustRun(t, "ps", "--format", "json").Stdout), &again); err != nil {
		t.Fatal(err)
	}
	if len(again) != 2 || again[0].ID != rows[0].ID || again[1].ID != rows[1].ID || again[0].State != "running" {
		t.Fatalf("after start: want the same two containers running, got %+v (before %+v)", again, rows)
	}

	stack.MustRun(t, "restart", "api")
	var restarted []struct {
		Started string `json:"started"`
	}
	if err := json.Unmarshal([]byte(stack.MustRun(t, "ps", "--format", "json").Stdout), &restarted); err != nil {
		t.Fatal(err)
	}
	if restarted[0].Started == again[0].Started || restarted[1].Started != again[1].Started {
		t.Errorf("restart api: api start %s -> %s (want changed), cache %s -> %s (want same)",
			again[0].Started, restarted[0].Started, again[1].Started, restarted[1].Started)
	}

	stack.MustRun(t, "run", "--no-deps", "api", "true")
	if all := stack.MustRun(t, "ps", "-a").Stdout; !strings.Contains(all, "-api-run-") {
		t.Errorf("ps -a after run without --rm: want the run's container:\n%s", all)
	}
	stack.MustRun(t, "down")
	project := strings.TrimPrefix(stack.Env[0], "COMPOSE_PROJECT_NAME=")
	if left := e2e.Docker(t, "ps", "-aq", "--filter", "label=com.docker.compose.project="+project); left != "" {
		t.Errorf("down left containers of %s: %s", project, left)
	}
}

package examples_test

import (
	"archive/tar"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestKVStoreDayTwo: the day-two verbs on the kvstore example, each beside
// what Docker Compose prints for the same project (the same compose file
// with the web image stack built, and REDIS_HOST/REDIS_PORT written in,
// since Compose injects nothing), one step on the state the last left.
//
//	stack up; docker compose up --wait        -> two healthy projects
//	ls, images, top, port, stats --no-stream  -> Compose's columns; the same images, commands, ports
//	logs, with each flag                      -> Compose's prefix; the line's stream, time and text
//	pause, unpause, kill, wait, events        -> Compose's exit codes; the events replayed as Compose prints them
//	rm (asks), rm -f; logs --previous web     -> the removed container's last lines are still there
//	create; up                                -> created, not started; then started
//	cp both ways, a tar stream                -> the file goes in and comes back
//	stop; kill; rm -s -v                      -> Compose's messages; the named volume stays
//	wait (blocking), events (live)            -> the exit code of the container killed meanwhile
func TestKVStoreDayTwo(t *testing.T) {
	port, cport := freePort(t), freePort(t)
	stack, project := example(t, "kvstore", "KVSTORE_PORT="+port)
	stack.MustRun(t, "up")
	override := filepath.Join(t.TempDir(), "compose-web.yaml")
	e2e.WriteFiles(t, filepath.Dir(override), map[string]string{filepath.Base(override): `
services:
  web:
    image: ` + project + `-web
    build: !reset null
    pull_policy: never
    environment: {REDIS_HOST: redis, REDIS_PORT: "6379"}
`})
	cproject := project + "-compose"
	dc := newCompose(t, stack.Dir, cproject, []string{"KVSTORE_PORT=" + cport}, "compose.yaml", override)
	if r := dc.Run(t, "up", "-d", "--wait"); r.Code != 0 {
		t.Fatalf("docker compose up: exit %d", r.Code)
	}
	name := func(svc string) string { return project + "-" + svc + "-1" }
	cname := func(svc string) string { return cproject + "-" + svc + "-1" }

	t.Run("ls", func(t *testing.T) {
		sh, srows := table(stack.MustRun(t, "ls").Stdout)
		ch, _ := table(dc.Run(t, "ls").Stdout)
		sameColumns(t, "ls", sh, ch)
		r := row(t, srows, 0, project)
		if files := filepath.Join(stack.Dir, "compose.yaml"); r[1] != "running(2)" || r[2] != files {
			t.Errorf("ls: %q, want running(2) and %s", r, files)
		}
		var sj, cj []map[string]any
		decode(t, stack.MustRun(t, "ls", "--format", "json").Stdout, &sj)
		decode(t, dc.Run(t, "ls", "--format", "json").Stdout, &cj)
		if len(sj) == 0 || len(cj) == 0 || !sameKeys(sj[0], cj[0]) {
			t.Errorf("ls --format json: %v, Compose's keys %v", sj, cj)
		}
		if q := stack.MustRun(t, "ls", "-q").Stdout; !slices.Contains(strings.Fields(q), project) {
			t.Errorf("ls -q lacks %s:\n%s", project, q)
		}
	})

	t.Run("images", func(t *testing.T) {
		sh, srows := table(stack.MustRun(t, "images").Stdout)
		ch, crows := table(dc.Run(t, "images").Stdout)
		sameColumns(t, "images", sh, ch)
		// The same images: repository, tag, platform, ID and size alike.
		for _, svc := range []string{"redis", "web"} {
			s, c := row(t, srows, 0, name(svc)), row(t, crows, 0, cname(svc))
			if strings.Join(s[1:6], " ") != strings.Join(c[1:6], " ") {
				t.Errorf("images %s: %q, Compose's %q", svc, s, c)
			}
		}
		var sj, cj []map[string]any
		decode(t, stack.MustRun(t, "images", "--format", "json").Stdout, &sj)
		decode(t, dc.Run(t, "images", "--format", "json").Stdout, &cj)
		for k := range cj[0] {
			if _, ok := sj[0][k]; !ok && k != "LastTagTime" {
				t.Errorf("images --format json lacks Compose's key %q: %v", k, sj[0])
			}
		}
		sq, cq := strings.Fields(stack.MustRun(t, "images", "-q").Stdout), strings.Fields(dc.Run(t, "images", "-q").Stdout)
		slices.Sort(sq)
		slices.Sort(cq)
		if !slices.Equal(sq, cq) {
			t.Errorf("images -q: %v, Compose's %v", sq, cq)
		}
	})

	t.Run("top", func(t *testing.T) {
		sh, srows := table(stack.MustRun(t, "top").Stdout)
		ch, crows := table(dc.Run(t, "top").Stdout)
		sameColumns(t, "top", sh, ch)
		for _, svc := range []string{"redis", "web"} {
			s, c := row(t, srows, 0, svc), row(t, crows, 0, svc)
			if s[1] != c[1] || s[len(s)-1] != c[len(c)-1] {
				t.Errorf("top %s: %q, Compose's %q (same replica and command)", svc, s, c)
			}
		}
	})

	t.Run("port", func(t *testing.T) {
		if got := stack.MustRun(t, "port", "web", "8080").Stdout; got != "0.0.0.0:"+port+"\n" {
			t.Errorf("port web 8080: %q, Compose prints %q", got, strings.ReplaceAll(dc.Run(t, "port", "web", "8080").Stdout, cport, port))
		}
		if s, c := stack.MustRun(t, "port", "web").Stdout, dc.Run(t, "port", "web").Stdout; s != strings.ReplaceAll(c, cport, port) {
			t.Errorf("port web: %q, Compose's %q", s, c)
		}
		for _, args := range [][]string{{"port", "web", "9999"}, {"port", "--index", "2", "web", "8080"}} {
			if s, c := stack.Run(t, args...), dc.Run(t, args...); s.Code != 1 || c.Code != 1 {
				t.Errorf("%v: exit %d, Compose's %d; want 1", args, s.Code, c.Code)
			}
		}
		// Compose prints ":0" for a port exposed but not published; stack
		// says so.
		if r := stack.Run(t, "port", "redis", "6379"); r.Code != 1 || !strings.Contains(r.Stderr, "not published") {
			t.Errorf("port redis 6379: exit %d, %q; want 1 and not published", r.Code, r.Stderr)
		}
	})

	t.Run("stats", func(t *testing.T) {
		s := stack.MustRun(t, "stats", "--no-stream").Stdout
		sh, srows := table(s)
		ch, _ := table(dc.Run(t, "stats", "--no-stream").Stdout)
		// Compose's columns, in its order, then the CPU of the machine
		// and of the limit.
		if len(sh) < len(ch) {
			t.Fatalf("stats: columns %q, Compose's %q", sh, ch)
		}
		sameColumns(t, "stats", sh[:len(ch)], ch)
		for _, svc := range []string{"redis", "web"} {
			if r := row(t, srows, 1, name(svc)); strings.HasPrefix(r[3], "0B ") {
				t.Errorf("stats: %s uses no memory: %q", svc, r)
			}
		}
		if !strings.Contains(s, "\nSERVICE ") {
			t.Errorf("stats: no per-service table:\n%s", s)
		}
		lines := strings.Split(strings.TrimSpace(stack.MustRun(t, "stats", "--no-stream", "--format", "json").Stdout), "\n")
		if len(lines) != 2 {
			t.Fatalf("stats --format json: %d lines, want one per container", len(lines))
		}
		for _, l := range lines {
			var m map[string]any
			decode(t, l, &m)
			for _, k := range []string{"time", "service", "container", "id", "cpu_percent", "cpu_machine_percent", "cpu_limit_percent", "cpus", "cpu_limit",
				"memory_bytes", "memory_limit_bytes", "memory_percent", "memory_limited", "net_rx_bytes", "net_tx_bytes", "block_read_bytes", "block_write_bytes", "pids"} {
				if _, ok := m[k]; !ok {
					t.Errorf("stats --format json lacks %q: %s", k, l)
				}
			}
			if m["memory_bytes"].(float64) <= 0 || m["pids"].(float64) <= 0 {
				t.Errorf("stats --format json: no memory or process: %s", l)
			}
		}
	})

	t.Run("logs", func(t *testing.T) {
		s, c := stack.MustRun(t, "logs", "redis").Stdout, dc.Run(t, "logs", "redis").Stdout
		if !strings.HasPrefix(s, "redis-1  | ") || !strings.HasPrefix(c, "redis-1  | ") || !strings.Contains(s, "Ready to accept connections") {
			t.Fatalf("logs redis:\n%s\nCompose's:\n%s", s, c)
		}
		bare := stack.MustRun(t, "logs", "--no-log-prefix", "--no-color", "redis").Stdout
		if bare != strings.ReplaceAll(strings.TrimPrefix(s, "redis-1  | "), "\nredis-1  | ", "\n") {
			t.Errorf("logs --no-log-prefix:\n%s", bare)
		}
		if idx := stack.MustRun(t, "logs", "--index", "1", "redis").Stdout; idx != s {
			t.Errorf("logs --index 1 redis differs from logs redis:\n%s", idx)
		}
		if r, cr := stack.Run(t, "logs", "--index", "1"), dc.Run(t, "logs", "--index", "1"); r.Code != 1 || cr.Code != 1 {
			t.Errorf("logs --index without one service: exit %d, Compose's %d; want 1", r.Code, cr.Code)
		}
		stamped := regexp.MustCompile(`^web-1  \| \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z kvstore: listening`)
		if ts := stack.MustRun(t, "logs", "-t", "web").Stdout; !stamped.MatchString(ts) {
			t.Errorf("logs -t web:\n%s", ts)
		}
		for _, window := range [][]string{{"--until", "2000-01-01T00:00:00Z"}, {"--since", time.Now().Add(time.Hour).Format(time.RFC3339)}} {
			if out := stack.MustRun(t, append([]string{"logs", "web"}, window...)...).Stdout; out != "" {
				t.Errorf("logs %v: %q, want nothing", window, out)
			}
		}
		if out := stack.MustRun(t, "logs", "--since", "1h", "-n", "1", "web").Stdout; strings.Count(out, "\n") != 1 {
			t.Errorf("logs --since 1h -n 1 web: %q, want one line", out)
		}
		for _, l := range strings.Split(strings.TrimSpace(stack.MustRun(t, "logs", "--format", "json").Stdout), "\n") {
			var j struct{ Service, Container, Stream, Line string }
			var at struct{ Time time.Time }
			decode(t, l, &j)
			decode(t, l, &at)
			if (j.Service != "web" && j.Service != "redis") || j.Container != name(j.Service) || (j.Stream != "stdout" && j.Stream != "stderr") || at.Time.IsZero() {
				t.Errorf("logs --format json: %s", l)
			}
		}
	})

	t.Run("pause, kill, wait, events", func(t *testing.T) {
		since := time.Now().Add(-time.Second)
		for _, verb := range []string{"pause", "unpause"} {
			if s, c := stack.Run(t, verb, "web"), dc.Run(t, verb, "web"); s.Code != 0 || c.Code != 0 {
				t.Fatalf("%s web: exit %d, Compose's %d", verb, s.Code, c.Code)
			}
			if verb == "pause" && !strings.Contains(stack.MustRun(t, "ps").Stdout, "paused") {
				t.Errorf("pause web: web is not paused")
			}
		}
		if s, c := stack.Run(t, "kill", "web"), dc.Run(t, "kill", "web"); s.Code != 0 || c.Code != 0 {
			t.Fatalf("kill web: exit %d, Compose's %d", s.Code, c.Code)
		}
		s, c := stack.Run(t, "wait", "web"), dc.Run(t, "wait", "web")
		if s.Code != 137 || c.Code != 137 || s.Stdout != `container "`+name("web")+`" exited with status code 137`+"\n" {
			t.Errorf("wait web after kill: exit %d %q, Compose's %d %q; want 137", s.Code, s.Stdout, c.Code, c.Stdout)
		}
		until := time.Now().Add(time.Second)
		window := []string{"--since", since.Format(time.RFC3339Nano), "--until", until.Format(time.RFC3339Nano)}
		text := stack.MustRun(t, append([]string{"events", "web"}, window...)...).Stdout
		// Compose's line: time, "container", action, ID, sorted attributes.
		line := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} container (pause|unpause|kill|die|stop) [0-9a-f]{64} \((.+)\)$`)
		var actions []string
		for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
			m := line.FindStringSubmatch(l)
			if m == nil {
				t.Errorf("events: line %q is not Compose's", l)
				continue
			}
			actions = append(actions, m[1])
			if m[1] == "die" && !strings.Contains(m[2], "exitCode=137") || m[1] == "kill" && !strings.Contains(m[2], "signal=9") {
				t.Errorf("events: %q lacks its exit code or signal", l)
			}
		}
		if strings.Join(actions, " ") != "pause unpause kill die" {
			t.Errorf("events: %v, want pause unpause kill die", actions)
		}
		var sj, cj map[string]any
		decode(t, strings.Split(stack.MustRun(t, append([]string{"events", "--format", "json"}, window...)...).Stdout, "\n")[0], &sj)
		decode(t, strings.Split(dc.Run(t, append([]string{"events", "--json"}, window...)...).Stdout, "\n")[0], &cj)
		for k := range cj {
			if _, ok := sj[k]; !ok {
				t.Errorf("events --format json lacks Compose's key %q: %v", k, sj)
			}
		}
	})

	t.Run("rm, logs --previous", func(t *testing.T) {
		if s, c := stack.Run(t, "rm", "web"), dc.Run(t, "rm", "web"); s.Code != 0 || c.Code != 0 || !strings.Contains(s.Stderr, "Nothing removed") {
			t.Errorf("rm web unconfirmed: exit %d %q, Compose's %d", s.Code, s.Stderr, c.Code)
		}
		if !strings.Contains(stack.MustRun(t, "ps", "-a").Stdout, name("web")) {
			t.Fatal("rm without confirmation removed web")
		}
		// Confirmed: the deploy lock is let go while it asks, then taken again.
		yes := stack
		yes.Stdin = "y\n"
		if r := yes.MustRun(t, "rm", "web"); !strings.Contains(r.Stderr, "Going to remove "+name("web")) {
			t.Errorf("rm web, confirmed: %q", r.Stderr)
		}
		if strings.Contains(stack.MustRun(t, "ps", "-a").Stdout, name("web")) {
			t.Error("rm web, confirmed, left web")
		}
		dc.Run(t, "rm", "-f", "web")
		s, c := stack.Run(t, "rm", "-f"), dc.Run(t, "rm", "-f")
		if s.Code != 0 || c.Code != 0 || !strings.Contains(s.Stderr, "No stopped containers") || !strings.Contains(c.Stderr, "No stopped containers") {
			t.Errorf("rm -f with nothing stopped: exit %d %q, Compose's %d %q", s.Code, s.Stderr, c.Code, c.Stderr)
		}
		prev := stack.MustRun(t, "logs", "--previous", "web").Stdout
		if !strings.HasPrefix(prev, "web-1  | kvstore: listening on :8080") {
			t.Errorf("logs --previous web: %q, want the removed container's lines", prev)
		}
		if r := stack.Run(t, "logs", "--previous", "redis"); r.Code != 1 || !strings.Contains(r.Stderr, `no previous container of service "redis"`) {
			t.Errorf("logs --previous redis: exit %d, %q", r.Code, r.Stderr)
		}
	})

	t.Run("create, up", func(t *testing.T) {
		stack.MustRun(t, "create")
		dc.Run(t, "create")
		for _, n := range []string{name("web"), cname("web")} {
			if st := e2e.Docker(t, "inspect", "--format", "{{.State.Status}}", n); st != "created" {
				t.Errorf("after create, %s is %q, want created", n, st)
			}
		}
		if st := e2e.Docker(t, "inspect", "--format", "{{.State.Status}}", name("redis")); st != "running" {
			t.Errorf("create touched redis: %s", st)
		}
		stack.MustRun(t, "up")
		if st := e2e.Docker(t, "inspect", "--format", "{{.State.Health.Status}}", name("web")); st != "healthy" {
			t.Errorf("up after create: web is %q, want healthy", st)
		}
		if prev := stack.MustRun(t, "logs", "--previous", "web").Stdout; !strings.Contains(prev, "kvstore: listening") {
			t.Errorf("the kept lines went with create and up: %q", prev)
		}
	})

	t.Run("a replacement keeps the replaced container's lines", func(t *testing.T) {
		kept := func() string {
			return e2e.Docker(t, "volume", "inspect", "--format", `{{index .Labels "io.stack.previous-logs"}}`, name("web")+".previous-logs")
		}
		before := kept()
		stack.MustRun(t, "up", "--force-recreate", "web")
		if after := kept(); after == "" || after == before {
			t.Error("up replaced web without keeping the replaced container's last lines")
		}
		if prev := stack.MustRun(t, "logs", "--previous", "web").Stdout; !strings.Contains(prev, "kvstore: listening") {
			t.Errorf("logs --previous web after a replacement: %q", prev)
		}
	})

	t.Run("cp", func(t *testing.T) {
		dir := t.TempDir()
		e2e.WriteFiles(t, dir, map[string]string{"hello.txt": "hello from the host\n"})
		stack.MustRun(t, "cp", filepath.Join(dir, "hello.txt"), "redis:/data/hello.txt")
		if got := stack.MustRun(t, "exec", "-T", "redis", "cat", "/data/hello.txt").Stdout; got != "hello from the host\n" {
			t.Errorf("cp into redis, then cat: %q", got)
		}
		back := filepath.Join(dir, "back")
		stack.MustRun(t, "cp", "redis:/data/hello.txt", back)
		if b, err := os.ReadFile(back); err != nil || string(b) != "hello from the host\n" {
			t.Errorf("cp from redis: %q, %v", b, err)
		}
		tr := tar.NewReader(strings.NewReader(stack.MustRun(t, "cp", "redis:/data/hello.txt", "-").Stdout))
		if h, err := tr.Next(); err != nil || h.Name != "hello.txt" {
			t.Errorf("cp to -: %v %v, want a tar of hello.txt", h, err)
		} else if b, _ := io.ReadAll(tr); string(b) != "hello from the host\n" {
			t.Errorf("cp to -: %q", b)
		}
		for _, args := range [][]string{{"cp", "redis:/nonexistent", dir}, {"cp", "--index", "2", "redis:/data", dir}} {
			if s, c := stack.Run(t, args...), dc.Run(t, args...); s.Code != 1 || c.Code != 1 {
				t.Errorf("%v: exit %d, Compose's %d; want 1", args, s.Code, c.Code)
			}
		}
	})

	t.Run("stop, kill, rm -s -v", func(t *testing.T) {
		stack.MustRun(t, "stop", "web")
		dc.Run(t, "stop", "web")
		s, c := stack.Run(t, "kill", "web"), dc.Run(t, "kill", "web")
		if s.Code != 0 || c.Code != 0 || !strings.Contains(s.Stderr, "No container to kill") || !strings.Contains(c.Stderr, "No container to kill") {
			t.Errorf("kill with nothing running: exit %d %q, Compose's %d %q", s.Code, s.Stderr, c.Code, c.Stderr)
		}
		stack.MustRun(t, "rm", "-s", "-f", "-v", "redis")
		if st := e2e.Docker(t, "ps", "-aq", "--filter", "name="+name("redis")); st != "" {
			t.Errorf("rm -s -f -v redis left %s", st)
		}
		if v := e2e.Docker(t, "volume", "inspect", "--format", "{{.Name}}", project+"_data"); v != project+"_data" {
			t.Errorf("rm -v removed the named volume %s_data", project)
		}
		stack.MustRun(t, "up")
	})

	t.Run("wait blocks, events follow", func(t *testing.T) {
		events := startStack(t, stack, "events", "--format", "json", "redis")
		wait := startStack(t, stack, "wait", "redis")
		// Each pause and unpause is an event; the first the stream shows
		// proves it follows (it subscribes at some point after starting).
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(events.out.String(), `"action":"pause"`) {
			if time.Now().After(deadline) {
				t.Fatalf("events showed no pause in 30s:\n%s", events.out.String())
			}
			e2e.Docker(t, "pause", name("redis"))
			e2e.Docker(t, "unpause", name("redis"))
		}
		e2e.Docker(t, "kill", name("redis"))
		code, out := wait.end(t, 30*time.Second)
		if code != 137 || out != `container "`+name("redis")+`" exited with status code 137`+"\n" {
			t.Errorf("wait redis, killed: exit %d %q, want 137", code, out)
		}
		events.stop(t)
		var e struct{ Action, Service, Container string }
		decode(t, strings.Split(events.out.String(), "\n")[0], &e)
		if e.Service != "redis" || e.Container != name("redis") {
			t.Errorf("events --format json: %+v", e)
		}
	})

	t.Run("stats live", func(t *testing.T) {
		statsLive(t, stack, project)
	})

	t.Run("completion", func(t *testing.T) {
		for _, sh := range []string{"bash", "zsh", "fish"} {
			if out := stack.MustRun(t, "completion", sh).Stdout; !strings.Contains(out, "stack") || len(out) < 1000 {
				t.Errorf("completion %s: %d bytes", sh, len(out))
			}
		}
		if got := strings.Fields(stack.MustRun(t, "__complete", "logs", "").Stdout); !slices.Contains(got, "redis") || !slices.Contains(got, "web") {
			t.Errorf("completing logs: %q, want the services", got)
		}
	})
}

package cli_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

// watchApp writes a Go web service built from main.go (it answers
// "version VERSION" on / and serves ./static on /static/) whose
// develop.watch syncs ./static and rebuilds on main.go; gateway publishes
// stack's gateway on that port, else the service's own port is published
// there (Compose's project, built by the classic builder, which a Compose
// without the buildx plugin uses: no cache mount).
func watchApp(t testing.TB, dir string, port int, gateway bool) {
	t.Helper()
	cache := "--mount=type=cache,target=/root/.cache/go-build "
	if !gateway {
		cache = ""
	}
	route := "    x-stack:\n      route: {path: /, port: 8080}\n"
	top := fmt.Sprintf("x-stack:\n  gateway:\n    ports: [\"127.0.0.1:%d:80\"]\n", port)
	if !gateway {
		route, top = fmt.Sprintf("    ports: [\"127.0.0.1:%d:8080\"]\n", port), ""
	}
	e2e.WriteFiles(t, dir, map[string]string{
		"compose.yaml": top + `services:
  web:
    build: .
    init: true
` + route + `    develop:
      watch:
        - {path: ./static, target: /static, action: sync}
        - {path: ./main.go, action: rebuild}
`,
		"Dockerfile": `FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod main.go ./
RUN ` + cache + `CGO_ENABLED=0 go build -o /web .
FROM busybox:stable
COPY --from=build /web /web
COPY static /static
CMD ["/web"]
`,
		".dockerignore":   "static/*.tmp\n",
		"go.mod":          "module web\n\ngo 1.26\n",
		"main.go":         webMain("v1"),
		"static/old.txt":  "old\n",
		"static/page.txt": "v1\n",
	})
}

func webMain(version string) string {
	return `package main

import (
	"fmt"
	"net/http"
)

func main() {
	http.Handle("/static/", http.StripPrefix("/static/", http.FileServer(http.Dir("/static"))))
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "version ` + version + `") })
	_ = http.ListenAndServe(":8080", nil)
}
`
}

// background is a command left running, its output kept.
type background struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once it has exited
	mu   sync.Mutex
	out  bytes.Buffer
}

func (b *background) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.Write(p)
}

func (b *background) output() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.out.String()
}

// startBackground runs argv in dir with env, its output kept; it is interrupted,
// then killed, when the test ends.
func startBackground(t testing.TB, dir string, env []string, argv ...string) *background {
	t.Helper()
	b := &background{cmd: exec.Command(argv[0], argv[1:]...), done: make(chan struct{})}
	b.cmd.Dir, b.cmd.Env = dir, append(append(os.Environ(), "CI=true"), env...)
	b.cmd.Stdout, b.cmd.Stderr = b, b
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := b.done
	go func() { _ = b.cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = b.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = b.cmd.Process.Kill()
			<-done
		}
		t.Logf("$ %s\n%s", strings.Join(argv, " "), b.output())
	})
	return b
}

// until polls f every 50 ms until it holds, for up to d.
func until(t testing.TB, d time.Duration, what string, f func() bool) time.Duration {
	t.Helper()
	begin := time.Now()
	for !f() {
		if time.Since(begin) > d {
			t.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(50 * time.Millisecond) // what is polled is the service's answer
	}
	return time.Since(begin)
}

var httpClient = &http.Client{Timeout: 2 * time.Second}

func get(url string) (string, bool) {
	res, err := httpClient.Get(url)
	if err != nil {
		return "", false
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return string(b), err == nil && res.StatusCode == http.StatusOK
}

func port(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestWatchE2E drives `stack watch` on a Go web service behind the gateway.
//
//	watch                        -> converges, then "watching"
//	edit static/page.txt         -> served by the running container (synced, not rebuilt)
//	delete static/old.txt        -> gone from the container
//	write static/skip.tmp        -> not synced (.dockerignore)
//	edit main.go (version v2)    -> rebuilt and replaced: "version v2" served; a request every 20 ms meanwhile never fails
func TestWatchE2E(t *testing.T) {
	e2e.Engine(t)
	dir, p := t.TempDir(), port(t)
	name := e2e.ProjectName(t)
	t.Cleanup(func() { e2e.Docker(t, "image", "rm", "-f", name+"-web") })
	watchApp(t, dir, p, true)
	w := startBackground(t, dir, []string{"COMPOSE_PROJECT_NAME=" + name}, e2e.Binary(t), "watch")
	until(t, 5*time.Minute, "watch never says it watches:\n"+w.output(), func() bool { return strings.Contains(w.output(), "watching ") })
	base := fmt.Sprintf("http://127.0.0.1:%d", p)

	e2e.WriteFiles(t, dir, map[string]string{"static/page.txt": "v2\n", "static/skip.tmp": "no\n"})
	took := until(t, 20*time.Second, "the edited file is not served", func() bool { s, _ := get(base + "/static/page.txt"); return s == "v2\n" })
	t.Logf("edit -> served: %s", took)
	if err := os.Remove(filepath.Join(dir, "static", "old.txt")); err != nil {
		t.Fatal(err)
	}
	until(t, 20*time.Second, "the deleted file is still in the container", func() bool {
		return exec.Command("docker", "exec", name+"-web-1", "test", "-e", "/static/old.txt").Run() != nil
	})
	if exec.Command("docker", "exec", name+"-web-1", "test", "-e", "/static/skip.tmp").Run() == nil {
		t.Errorf("static/skip.tmp, which .dockerignore leaves out, was synced")
	}
	if out := w.output(); !strings.Contains(out, "synced /static/page.txt in ") || strings.Contains(out, "rebuil") {
		t.Errorf("watch's progress: want the sync of /static/page.txt, no rebuild:\n%s", out)
	}

	// A request every 20 ms, at most 24000 (eight minutes), while main.go changes.
	var failed, served int
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 24000; i++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if _, ok := get(base + "/"); ok {
				served++
			} else {
				failed++
			}
		}
	}()
	e2e.WriteFiles(t, dir, map[string]string{"main.go": webMain("v2")})
	took = until(t, 8*time.Minute, "the rebuilt service is not served:\n"+w.output(), func() bool { s, _ := get(base + "/"); return s == "version v2" })
	close(stop)
	<-done
	t.Logf("edit of main.go -> served: %s; %d requests served, %d failed", took, served, failed)
	if failed > 0 {
		t.Errorf("%d of %d requests failed while the service was rebuilt and replaced", failed, served+failed)
	}
	// The old container goes once the gateway has sent it its last request.
	until(t, 2*time.Minute, "watch's progress never says the service was rebuilt and replaced", func() bool {
		return strings.Contains(w.output(), "rebuilt and replaced in ")
	})
}

// TestUpWatchE2E: `up --watch` converges, prints the service's output, and
// syncs an edited file; Ctrl-C (SIGINT) stops the project and exits 130.
func TestUpWatchE2E(t *testing.T) {
	e2e.Engine(t)
	dir, p := t.TempDir(), port(t)
	name := e2e.ProjectName(t)
	t.Cleanup(func() { e2e.Docker(t, "image", "rm", "-f", name+"-web") })
	watchApp(t, dir, p, true)
	w := startBackground(t, dir, []string{"COMPOSE_PROJECT_NAME=" + name}, e2e.Binary(t), "up", "--watch")
	until(t, 5*time.Minute, "up --watch never attaches and watches:\n"+w.output(), func() bool {
		out := w.output()
		return strings.Contains(out, "Attaching to web-1") && strings.Contains(out, "watching ")
	})
	e2e.WriteFiles(t, dir, map[string]string{"static/page.txt": "v2\n"})
	until(t, 20*time.Second, "the edited file is not served", func() bool { s, _ := get(fmt.Sprintf("http://127.0.0.1:%d/static/page.txt", p)); return s == "v2\n" })
	if err := w.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.done:
	case <-time.After(time.Minute):
		t.Fatalf("up --watch does not end on SIGINT:\n%s", w.output())
	}
	if code := w.cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("up --watch after SIGINT: exit %d, want 130", code)
	}
	if st := e2e.Docker(t, "inspect", "--format", "{{.State.Running}}", name+"-web-1"); st != "false" {
		t.Errorf("web after SIGINT: running=%s, want stopped", st)
	}
}

// TestWatchActionsE2E: initial_sync, sync+exec and sync+restart.
//
// Model: app (busybox) writes its start time to /started; rules:
// ./init synced at start (initial_sync), ./hooks synced then a command run
// (sync+exec), ./conf synced then the container restarted (sync+restart).
//
//	watch                -> /init/a.txt in the container before any change
//	edit hooks/h.txt     -> synced; the exec copied it to /exec-ran
//	edit conf/c.txt      -> synced; the container restarted (a new start time)
func TestWatchActionsE2E(t *testing.T) {
	stack := project(t, `
services:
  app:
    image: busybox:stable
    command: ["sh", "-c", "date +%s%N > /started; exec sleep 3600"]
    stop_signal: SIGKILL
    develop:
      watch:
        - {path: ./init, target: /init, action: sync, initial_sync: true}
        - {path: ./hooks, target: /hooks, action: sync+exec, exec: {command: ["sh", "-c", "cat /hooks/h.txt > /exec-ran"]}}
        - {path: ./conf, target: /conf, action: sync+restart}
`)
	e2e.WriteFiles(t, stack.Dir, map[string]string{"init/a.txt": "initial\n", "hooks/h.txt": "h0\n", "conf/c.txt": "c0\n"})
	name := strings.TrimPrefix(stack.Env[0], "COMPOSE_PROJECT_NAME=")
	in := func(args ...string) string {
		out, _ := exec.Command("docker", append([]string{"exec", name + "-app-1"}, args...)...).Output()
		return string(out)
	}
	w := startBackground(t, stack.Dir, stack.Env, e2e.Binary(t), "watch")
	until(t, 2*time.Minute, "watch never says it watches:\n"+w.output(), func() bool { return strings.Contains(w.output(), "watching ") })
	until(t, 20*time.Second, "initial_sync: /init/a.txt not in the container", func() bool { return in("cat", "/init/a.txt") == "initial\n" })
	started := in("cat", "/started")

	e2e.WriteFiles(t, stack.Dir, map[string]string{"hooks/h.txt": "h1\n"})
	until(t, 20*time.Second, "sync+exec: the command did not run on the synced file:\n"+w.output(), func() bool { return in("cat", "/exec-ran") == "h1\n" })
	if s := in("cat", "/started"); s != started {
		t.Errorf("sync+exec restarted the container")
	}

	e2e.WriteFiles(t, stack.Dir, map[string]string{"conf/c.txt": "c1\n"})
	until(t, 30*time.Second, "sync+restart: no restart with the synced file:\n"+w.output(), func() bool {
		s := in("cat", "/started")
		return s != "" && s != started && in("cat", "/conf/c.txt") == "c1\n"
	})
	until(t, 10*time.Second, "the restart is not reported", func() bool { return strings.Contains(w.output(), "restarted in ") })
}

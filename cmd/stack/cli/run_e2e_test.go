package cli_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestRunFlagsE2E drives docker compose run's flags through stack run on
// the real engine.
//
// Model: web (busybox httpd serving a page that says who and where it
// runs, network alias webalias, a project volume data) and client
// (busybox, sleeps).
//
//	run -d --name N -u 1234:1234 -w /dev/shm -l team=qa -p 127.0.0.1:PORT:8080 --use-aliases web sh -c ...
//	                        -> prints N only, exit 0; GET 127.0.0.1:PORT answers "1234 /dev/shm";
//	                           the container has label team=qa; ps -a lists N; logs N shows its line
//	run --rm --no-deps client wget http://webalias:8080/
//	                        -> "1234 /dev/shm": the one-off answers to the service's alias
//	run --rm -v DIR:/b:ro -v data:/n web ...     -> reads the host's file, writes the project's volume
//	run --rm -v data:/n web cat /n/y             -> what the previous run wrote
//	run -d web sleep        -> without --use-aliases its endpoint has no alias of the service
//	run -d --rm web true    -> the engine removes it once it exits
//	run -p notaport / -l nokey / --pull sometimes / -P with -p -> exit 1, the flag named, nothing created
//	down                    -> every one-off gone
func TestRunFlagsE2E(t *testing.T) {
	stack := project(t, `
services:
  web:
    image: busybox:stable
    command: ["sh", "-c", "exec sleep 3600"]
    stop_signal: SIGKILL
    volumes: [data:/data]
    networks:
      default: {aliases: [webalias]}
  client:
    image: busybox:stable
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
volumes:
  data: {}
`)
	project := strings.TrimPrefix(stack.Env[0], "COMPOSE_PROJECT_NAME=")
	port := freePort(t)
	name := project + "-srv"
	serve := `mkdir -p /dev/shm/w && echo "$(id -u) $(pwd)" > /dev/shm/w/index.html && echo serving && exec httpd -f -p 8080 -h /dev/shm/w`
	out := stack.MustRun(t, "run", "-d", "--name", name, "-u", "1234:1234", "-w", "/dev/shm", "-l", "team=qa",
		"-p", "127.0.0.1:"+port+":8080", "--use-aliases", "web", "sh", "-c", serve).Stdout
	id := strings.TrimSpace(out)
	if full := e2e.Docker(t, "inspect", "-f", "{{.Id}}", name); out != full+"\n" || len(id) != 64 {
		t.Fatalf("run -d: stdout %q, want the one-off's container ID alone (%s), as docker compose run -d prints it", out, full)
	}
	if body := getBounded(t, "http://127.0.0.1:"+port+"/"); body != "1234 /dev/shm\n" {
		t.Errorf("GET the published port: %q, want the one-off's uid and working directory", body)
	}
	if label := e2e.Docker(t, "inspect", "-f", `{{index .Config.Labels "team"}}`, name); label != "qa" {
		t.Errorf("label team: %q, want qa", label)
	}
	if all := stack.MustRun(t, "ps", "-a").Stdout; !strings.Contains(all, name) {
		t.Errorf("ps -a: want the detached one-off %s:\n%s", name, all)
	}
	for _, ref := range []string{id, id[:12], name} {
		if logs := stack.MustRun(t, "logs", ref).Stdout; !strings.Contains(logs, name) || !strings.Contains(logs, "| serving") {
			t.Errorf("logs %s: want its line:\n%s", ref, logs)
		}
	}
	// The stand-in busybox's wget crashes resolving a name or with -T:
	// nslookup resolves the alias, wget asks its address under timeout.
	probe := `for i in $(seq 40); do ip=$(nslookup webalias 2>/dev/null | awk '/^Address: /{print $2}' | tail -1); ` +
		`[ -n "$ip" ] && timeout 2 wget -qO- "http://$ip:8080/" && exit 0; sleep 0.25; done; exit 1`
	if got := stack.MustRun(t, "run", "--rm", "--no-deps", "client", "sh", "-c", probe).Stdout; got != "1234 /dev/shm\n" {
		t.Errorf("client GET webalias:8080: %q, want the one-off run with --use-aliases", got)
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := stack.MustRun(t, "run", "--rm", "-v", dir+":/b:ro", "-v", "data:/n", "web", "sh", "-c", "cat /b/f && echo written > /n/y && ! touch /b/g").Stdout
	if got != "from the host\n" {
		t.Errorf("run -v DIR:/b:ro: %q", got)
	}
	if got := stack.MustRun(t, "run", "--rm", "-v", "data:/n", "web", "cat", "/n/y").Stdout; got != "written\n" {
		t.Errorf("run -v data:/n: %q, want what the previous run wrote in the project's volume", got)
	}
	if src := e2e.Docker(t, "volume", "inspect", "-f", "{{.Name}}", project+"_data"); src != project+"_data" {
		t.Errorf("the project's volume: %q", src)
	}

	plain := strings.TrimSpace(stack.MustRun(t, "run", "-d", "web", "sleep", "3600").Stdout)
	aliases := e2e.Docker(t, "inspect", "-f", `{{range .NetworkSettings.Networks}}{{.Aliases}}{{end}}`, plain)
	if strings.Contains(aliases, "webalias") || strings.Contains(aliases, " web") || strings.Contains(aliases, "[web") {
		t.Errorf("a one-off without --use-aliases has the service's aliases: %s", aliases)
	}
	gone := strings.TrimSpace(stack.MustRun(t, "run", "-d", "--rm", "web", "true").Stdout)
	waitGone(t, gone)

	for _, bad := range [][]string{
		{"-p", "notaport", "-p/--publish"},
		{"-l", "nokey", "-l/--label"},
		{"--pull", "sometimes", "--pull"},
		{"-v", "rel:data", "-v/--volume"},
	} {
		r := stack.Run(t, "run", bad[0], bad[1], "web", "true")
		if r.Code != 1 || !strings.Contains(r.Stderr, bad[2]) || !strings.Contains(r.Stderr, bad[1]) {
			t.Errorf("run %s %s: exit %d, stderr %q; want 1 naming the flag and the value", bad[0], bad[1], r.Code, r.Stderr)
		}
	}
	if r := stack.Run(t, "run", "-P", "-p", "8080", "web", "true"); r.Code != 1 || !strings.Contains(r.Stderr, "--service-ports and -p/--publish") {
		t.Errorf("run -P -p: exit %d, stderr %q", r.Code, r.Stderr)
	}

	stack.MustRun(t, "down")
	if left := e2e.Docker(t, "ps", "-aq", "--filter", "label=com.docker.compose.project="+project); left != "" {
		t.Errorf("down left containers of %s: %s", project, left)
	}
}

// TestRunBuildE2E: run --build builds the service's image first even when
// its inputs did not change, as up --build does; without it an unchanged
// image is not built again.
//
//	run --rm app cat /v           -> "v1" (built: its inputs are new)
//	run --rm --build app cat /v   -> "v1", and the build ran ("built ...")
//	run --rm app cat /v           -> "v1", the image "up to date"
func TestRunBuildE2E(t *testing.T) {
	stack := project(t, `
services:
  app:
    build: .
`)
	e2e.WriteFiles(t, stack.Dir, map[string]string{"Dockerfile": "FROM busybox:stable\nRUN echo v1 > /v\n"})
	t.Cleanup(func() { // the image run built, <project>-app
		name := strings.TrimPrefix(stack.Env[0], "COMPOSE_PROJECT_NAME=")
		if ids := e2e.Docker(t, "images", "-q", "--filter", "reference="+name+"-app"); ids != "" {
			e2e.Docker(t, append([]string{"rmi", "-f"}, strings.Fields(ids)...)...)
		}
	})
	stack.MustRun(t, "run", "--rm", "app", "cat", "/v")
	r := stack.MustRun(t, "run", "--rm", "--build", "app", "cat", "/v")
	if r.Stdout != "v1\n" || !strings.Contains(r.Stderr, "built ") {
		t.Errorf("run --build: stdout %q; want v1 and the build in:\n%s", r.Stdout, r.Stderr)
	}
	r = stack.MustRun(t, "run", "--rm", "app", "cat", "/v")
	if r.Stdout != "v1\n" || !strings.Contains(r.Stderr, "up to date") || strings.Contains(r.Stderr, "built ") {
		t.Errorf("run without --build: stdout %q; want v1 and the image up to date in:\n%s", r.Stdout, r.Stderr)
	}
	if q := stack.MustRun(t, "run", "--rm", "-q", "app", "echo", "quiet"); q.Stdout != "quiet\n" || q.Stderr != "" {
		t.Errorf("run -q: stdout %q, stderr %q; want the output alone", q.Stdout, q.Stderr)
	}
}

// freePort is a TCP port on 127.0.0.1 nothing listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

// getBounded GETs url until it answers 200, at most 40 times in 10 s.
func getBounded(t *testing.T, url string) string {
	t.Helper()
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; i < 40 && time.Now().Before(deadline); i++ {
		if resp, err := c.Get(url); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return string(b)
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("GET %s: no answer in 10 s", url)
	return ""
}

// waitGone waits, at most 10 s, for the container to be removed.
func waitGone(t *testing.T, name string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if e2e.Docker(t, "ps", "-aq", "--filter", "name=^/"+name+"$") == "" {
			return
		}
	}
	t.Errorf("run -d --rm: %s still there 10 s after it exited", name)
}

package cli_test

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

const composeVerbsModel = `
services:
  web:
    image: busybox:stable
    command: ["sh", "-c", "echo hello > /marker; exec sleep 3600"]
    stop_signal: SIGKILL
    volumes: [data:/data]
  cache:
    image: busybox:stable
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
  console:
    image: busybox:stable
    command: ["sh", "-c", "while read l; do echo got:$$l; done"]
    stdin_open: true
    tty: true
    stop_signal: SIGKILL
volumes:
  data: {}
`

// TestComposeVerbsE2E drives volumes, export, commit and scale beside
// Docker Compose on the same model, and attach on a terminal.
//
// Model: web (writes /marker, mounts volume data), cache, console (echoes
// its stdin back, stdin_open).
//
//	volumes / -q / --format json / volumes cache -> Compose's table; the data volume; none for cache
//	export web -o web.tar      -> a tar holding /marker ("hello"), as Compose's export
//	commit web REPO:TAG        -> an image whose /marker reads "hello"
//	scale web=3, then web=1    -> 3 then 1 web containers, web-1, cache and console never recreated
//	attach console (terminal)  -> a typed line comes back; ctrl-p ctrl-q detaches, console keeps running
func TestComposeVerbsE2E(t *testing.T) {
	stack := project(t, composeVerbsModel)
	dc := e2e.NewComposeProject(t, stack.Dir)
	stack.MustRun(t, "up")
	dc.MustRun(t, "up", "-d", "--wait")
	name := strings.TrimPrefix(stack.Env[0], "COMPOSE_PROJECT_NAME=")

	// volumes: Compose's table, with each one's own volume.
	got := stack.MustRun(t, "volumes").Stdout
	want := strings.ReplaceAll(dc.MustRun(t, "volumes").Stdout, dc.Name, name)
	if got != want {
		t.Errorf("volumes:\n%s\nCompose's (names replaced):\n%s", got, want)
	}
	if q := stack.MustRun(t, "volumes", "-q").Stdout; q != name+"_data\n" {
		t.Errorf("volumes -q: %q", q)
	}
	var row struct{ Name, Driver, Mountpoint string }
	if err := json.Unmarshal([]byte(stack.MustRun(t, "volumes", "--format", "json").Stdout), &row); err != nil || row.Name != name+"_data" || row.Driver != "local" {
		t.Errorf("volumes --format json: %+v %v", row, err)
	}
	if out := stack.MustRun(t, "volumes", "cache").Stdout; out != "DRIVER    VOLUME NAME\n" {
		t.Errorf("volumes cache: want the header alone, got %q", out)
	}

	// export: the container's filesystem, as Compose's.
	stack.MustRun(t, "export", "web", "-o", "web.tar")
	dc.MustRun(t, "export", "web", "-o", "compose-web.tar")
	for _, f := range []string{"web.tar", "compose-web.tar"} {
		if m := tarFile(t, filepath.Join(stack.Dir, f), "marker"); m != "hello\n" {
			t.Errorf("%s: marker holds %q, want hello", f, m)
		}
	}

	// commit: an image of web's changes.
	ref := "stack-e2e-commit:" + name
	t.Cleanup(func() { e2e.Docker(t, "image", "rm", "-f", ref) })
	id := strings.TrimSpace(stack.MustRun(t, "commit", "-m", "from the test", "web", ref).Stdout)
	if !strings.HasPrefix(id, "sha256:") {
		t.Errorf("commit printed %q, want an image ID", id)
	}
	if out := e2e.Docker(t, "run", "--rm", "--entrypoint", "cat", ref, "/marker"); out != "hello" {
		t.Errorf("the committed image's /marker: %q", out)
	}
	if c := e2e.Docker(t, "image", "inspect", "--format", "{{.Comment}}", ref); c != "from the test" {
		t.Errorf("the committed image's comment: %q", c)
	}

	// scale: web's replicas only.
	before := containerIDs(t, name)
	stack.MustRun(t, "scale", "web=3")
	dc.MustRun(t, "scale", "web=3")
	mid := containerIDs(t, name)
	for _, n := range []string{"web-1", "cache-1", "console-1"} {
		if mid[n] != before[n] {
			t.Errorf("scale web=3 recreated %s", n)
		}
	}
	if mid["web-2"] == "" || mid["web-3"] == "" || len(mid) != 5 {
		t.Errorf("after scale web=3: %v", mid)
	}
	if n := strings.Count(e2e.Docker(t, "ps", "-q", "--filter", "label=com.docker.compose.project="+dc.Name, "--filter", "label=com.docker.compose.service=web"), "\n") + 1; n != 3 {
		t.Errorf("Compose's scale web=3: %d web containers", n)
	}
	stack.MustRun(t, "scale", "web=1")
	after := containerIDs(t, name)
	if len(after) != 3 || after["web-1"] != before["web-1"] || after["cache-1"] != before["cache-1"] {
		t.Errorf("after scale web=1: %v, want web-1, cache-1, console-1 as before %v", after, before)
	}
	if r := stack.Run(t, "scale", "web=x"); r.Code == 0 || !strings.Contains(r.Stderr, "SERVICE=REPLICAS") {
		t.Errorf("scale web=x: exit %d, %q", r.Code, r.Stderr)
	}
	if r := stack.Run(t, "scale", "nope=2"); r.Code == 0 || !strings.Contains(r.Stderr, `no such service: "nope"`) {
		t.Errorf("scale nope=2: exit %d, %q", r.Code, r.Stderr)
	}

	// attach: on a terminal, a line typed comes back; ctrl-p ctrl-q detaches.
	term := onTerminal(t, stack.Dir, stack.Env, "stack", "attach", "console")
	deadline := time.Now().Add(30 * time.Second)
	for {
		term.keys(t, "ping", "Enter")
		if screen := term.capture(t); strings.Contains(screen, "got:ping") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("attach console: no echo after 30s:\n%s", term.capture(t))
		}
		time.Sleep(300 * time.Millisecond) // retyping: the attach may not be up yet
	}
	term.keys(t, "C-p", "C-q")
	term.waitFor(t, "[exit 0]", 20*time.Second)
	if st := e2e.Docker(t, "inspect", "--format", "{{.State.Running}}", name+"-console-1"); st != "true" {
		t.Errorf("console after detaching: running=%s", st)
	}
}

// containerIDs maps service-number to container ID for project's containers.
func containerIDs(t *testing.T, project string) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := e2e.Docker(t, "ps", "--no-trunc", "--filter", "label="+e2e.Label+"="+project, "--format", `{{.Label "io.stack.service"}}-{{.Label "io.stack.container-number"}} {{.ID}}`)
	for _, l := range strings.Split(lines, "\n") {
		if k, v, ok := strings.Cut(l, " "); ok {
			out[k] = v
		}
	}
	return out
}

// tarFile returns the content of name in the tar archive at path.
func tarFile(t *testing.T, path, name string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			t.Fatalf("%s holds no %s", path, name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimPrefix(h.Name, "./") == name {
			b, _ := io.ReadAll(tr)
			return string(b)
		}
	}
}

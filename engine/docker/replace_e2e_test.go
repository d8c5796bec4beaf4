package docker_test

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// freePort returns a loopback port nothing listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// A replacement that cannot go through leaves the previous container
// running and serving, its anonymous volume's data intact, and says why.
// Model: web serves /data over HTTP from an image that declares VOLUME
// /data; a file is written there. Steps, for each way a new container fails
// (the engine refuses to create it; it cannot start: a host port something
// else holds, a user the image lacks, an entrypoint that does not exist):
// change web that way -> up exits 1 naming the cause; the same container
// still serves the file and nothing else of the project exists. Then a
// valid change -> up replaces web, the new container serves the same file,
// and plan --detailed-exitcode is 0.
func TestFailedReplacementKeepsTheOldContainer(t *testing.T) {
	e2e.Engine(t)
	tag := "stack-e2e-serve:" + strings.ToLower(t.Name())
	e2e.DockerfileImage(t, tag, "FROM busybox:stable\nVOLUME /data\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/data\"]\n")
	port, held := freePort(t), freePort(t)
	compose := func(extra string) string {
		return fmt.Sprintf(`
services:
  web:
    image: %s
    init: true
    ports: ["127.0.0.1:%d:8080"]
    environment: {GENERATION: "1"}
%s`, tag, port, extra)
	}
	c, project := stack(t, compose(""))
	c.MustRun(t, "up")
	web := project + "-web-1"
	e2e.Docker(t, "exec", web, "sh", "-c", "echo kept > /data/index.html")
	url := fmt.Sprintf("http://127.0.0.1:%d/index.html", port)
	if got := get(t, url); got != "kept\n" {
		t.Fatalf("GET %s = %q", url, got)
	}
	id := ids(t, project)[web]

	// Something on the host holds the port the broken version publishes.
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", held))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, tt := range []struct{ name, field, cause string }{
		{"create refused", "    cpus: 100\n", "Range of CPUs"},
		{"memory refused", "    mem_limit: 4k\n", "Minimum memory limit"},
		{"port held", fmt.Sprintf("    ports: [\"127.0.0.1:%d:8080\"]\n", held), "address already in use"},
		{"no such user", "    user: nosuchuser\n", "nosuchuser"},
		{"no such entrypoint", "    entrypoint: [\"/nonexistent\"]\n", "/nonexistent"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			broken := compose(tt.field)
			switch tt.name {
			case "port held":
				broken = strings.Replace(compose(""), fmt.Sprintf("%d:8080", port), fmt.Sprintf("%d:8080", held), 1)
			case "no such entrypoint":
				// Under init (tini) the container starts, then dies at
				// once: "started" may hold before it dies, a race only
				// update_config.monitor closes. Without init the engine
				// cannot start it at all.
				broken = strings.Replace(broken, "init: true", "init: false", 1)
			}
			write(t, c.Dir, "name: "+project+"\n"+broken)
			r := c.Run(t, "up")
			// The engine's own words: Docker 29 writes "range of CPUs".
			if r.Code != 1 || !strings.Contains(strings.ToLower(r.Stderr), strings.ToLower(tt.cause)) {
				t.Fatalf("up: exit %d, want 1 naming %q", r.Code, tt.cause)
			}
			if got := ids(t, project); len(got) != 1 || got[web] != id {
				t.Fatalf("containers after the failure: %v, want only the old %s", got, web)
			}
			if got := get(t, url); got != "kept\n" {
				t.Fatalf("the old container serves %q, want kept", got)
			}
		})
	}
	write(t, c.Dir, "name: "+project+"\n"+strings.Replace(compose(""), `GENERATION: "1"`, `GENERATION: "2"`, 1))
	c.MustRun(t, "up")
	if now := ids(t, project); len(now) != 1 || now[web] == id || now[web] == "" {
		t.Fatalf("containers after the valid change: %v, want a new %s", now, web)
	}
	if got := get(t, url); got != "kept\n" {
		t.Fatalf("the new container serves %q, want the old data", got)
	}
	if r := c.Run(t, "plan", "--detailed-exitcode"); r.Code != 0 {
		t.Errorf("plan --detailed-exitcode: exit %d, want 0", r.Code)
	}
}

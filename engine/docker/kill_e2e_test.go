package docker_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// killCompose is n services on two networks (on API 1.41 each container is
// connected to the second after it is created), each depending on the one
// before; GEN changes every service's environment.
func killCompose(n int, gen string) string {
	var b strings.Builder
	b.WriteString("services:\n")
	for i := range n {
		fmt.Fprintf(&b, "  s%d:\n    image: busybox:stable\n    init: true\n    command: [\"sleep\", \"3600\"]\n    environment: {GEN: %q}\n    networks: [default, back]\n", i, gen)
		if i > 0 {
			fmt.Fprintf(&b, "    depends_on: [s%d]\n", i-1)
		}
	}
	b.WriteString("networks:\n  back: {}\n")
	return b.String()
}

// upKilled runs `stack up` one operation at a time and kills it with
// SIGKILL once `after` operations have finished (as --progress json reports
// them); it returns how many operations the run has in all when it ran to
// the end instead.
func upKilled(t *testing.T, dir string, after int) (total int, killed bool) {
	t.Helper()
	cmd := exec.Command(e2e.Binary(t), "--progress", "json", "up", "--parallel", "1")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CI=true")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := 0
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		var e struct{ Op, Status string }
		if json.Unmarshal(lines.Bytes(), &e) != nil || e.Op == "" || e.Status != "done" {
			continue
		}
		if done++; done == after {
			_ = cmd.Process.Kill()
			killed = true
			break
		}
	}
	_ = cmd.Wait()
	return done, killed
}

// converged checks that every container of the project runs on both of its
// networks with its service name as an alias, and that plan has nothing to do.
func converged(t *testing.T, c e2e.Cmd, project string, n int) {
	t.Helper()
	for i := range n {
		name := fmt.Sprintf("%s-s%d-1", project, i)
		out := e2e.Docker(t, "inspect", "-f", `{{.State.Status}}{{range $k, $v := .NetworkSettings.Networks}} {{$k}}={{join $v.Aliases ","}}{{end}}`, name)
		fields := strings.Fields(out)
		if len(fields) != 3 || fields[0] != "running" {
			t.Fatalf("%s: %q, want running on two networks", name, out)
		}
		for _, net := range []string{project + "_default", project + "_back"} {
			if !slices.ContainsFunc(fields[1:], func(f string) bool {
				k, aliases, _ := strings.Cut(f, "=")
				return k == net && slices.Contains(strings.Split(aliases, ","), fmt.Sprintf("s%d", i))
			}) {
				t.Fatalf("%s: %q, want it on %s with alias s%d", name, out, net, i)
			}
		}
	}
	if got := len(ids(t, project)); got != n {
		t.Fatalf("%d containers, want %d: %v", got, n, ids(t, project))
	}
	if r := c.Run(t, "plan", "--detailed-exitcode"); r.Code != 0 {
		t.Fatalf("plan --detailed-exitcode: exit %d after the next up, want 0", r.Code)
	}
}

// A kill -9 at any step of `up` leaves a state the next `up` converges.
// Model: 10 services in a chain, each on two networks. Steps, for every
// operation count k of a cold up (each k a project of its own, two at a
// time): up killed after k operations -> up -> every container running on
// both networks with its alias, plan exits 0, no leftover. Then the same for
// a replacement of 3 services (an environment change), killed after each of
// its operations: the leftovers of the interrupted replacement (a container
// under a temporary name, an old one stopped) are cleared up.
func TestKilledUpConverges(t *testing.T) {
	e2e.Engine(t)
	for _, tt := range []struct {
		name    string
		n       int
		replace bool // deploy GEN 1 first, kill the up of GEN 2
	}{
		{name: "cold", n: 10},
		{name: "replace", n: 3, replace: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// How many operations the whole up has.
			c, project := stack(t, killCompose(tt.n, "1"))
			if tt.replace {
				c.MustRun(t, "up")
				write(t, c.Dir, "name: "+project+"\n"+killCompose(tt.n, "2"))
			}
			total, _ := upKilled(t, c.Dir, 0)
			if total < 2*tt.n {
				t.Fatalf("the up made %d operations, want at least %d", total, 2*tt.n)
			}
			for k := 1; k < total; k++ {
				t.Run(fmt.Sprint(k), func(t *testing.T) {
					t.Parallel()
					c, project := stack(t, killCompose(tt.n, "1"))
					if tt.replace {
						c.MustRun(t, "up")
						write(t, c.Dir, "name: "+project+"\n"+killCompose(tt.n, "2"))
					}
					if _, killed := upKilled(t, c.Dir, k); !killed {
						t.Fatalf("up ended before %d operations", k)
					}
					c.MustRun(t, "up")
					converged(t, c, project, tt.n)
				})
			}
		})
	}
}

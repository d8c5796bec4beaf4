package cli_test

import (
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/dockerclient"
	"golang.org/x/sync/errgroup"

	"github.com/stack-deploy/stack/internal/e2e"
)

// BenchmarkStats30Services measures `stack stats --no-stream` on 30 running
// busybox services beside `docker compose stats --no-stream` on the same
// containers, in the same run (each service carries Compose's project
// label too, so Compose finds stack's containers as its own project's), and
// the engine's floor: one plain stats request per container, all at once,
// straight through the API. It reports the seconds of each (goal for stack:
// under 2 s). The floor is the engine's: it answers a request once it has
// collected its containers twice since, a second apart plus the time a
// collection takes.
func BenchmarkStats30Services(b *testing.B) {
	e2e.Engine(b)
	dcCmd := e2e.Compose(b)
	dir := b.TempDir()
	project := e2e.ProjectName(b)
	var compose strings.Builder
	compose.WriteString("name: " + project + "\nservices:\n")
	for i := range 30 {
		fmt.Fprintf(&compose, "  svc%02d:\n    image: busybox:stable\n    init: true\n    command: [\"sleep\", \"3600\"]\n    labels: {com.docker.compose.project: %s}\n", i, project)
	}
	e2e.WriteFiles(b, dir, map[string]string{"compose.yaml": compose.String()})
	e2e.Cmd{Dir: dir}.MustRun(b, "up")

	run := func(name string, args ...string) time.Duration {
		b.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		start := time.Now()
		out, err := cmd.CombinedOutput()
		took := time.Since(start)
		if err != nil {
			b.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		// Every container, under the header (stack prints its services
		// table after a blank line).
		rows, _, _ := strings.Cut(string(out), "\n\n")
		if n := strings.Count(strings.TrimSpace(rows), "\n"); n != 30 {
			b.Fatalf("%s %v: %d containers, want 30:\n%s", name, args, n, out)
		}
		return took
	}
	c, err := dockerclient.New()
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	ids := strings.Fields(e2e.Docker(b, "ps", "-q", "--filter", "label="+e2e.Label+"="+project))
	floor := func() time.Duration {
		b.Helper()
		start := time.Now()
		g, ctx := errgroup.WithContext(b.Context())
		for _, id := range ids {
			g.Go(func() error {
				r, err := c.ContainerStats(ctx, id, false)
				if err != nil {
					return err
				}
				defer r.Body.Close()
				_, err = io.Copy(io.Discard, r.Body)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	var stack, dc, engine time.Duration
	b.ResetTimer()
	for range b.N {
		stack += run(e2e.Binary(b), "stats", "--no-stream")
		dc += run(dcCmd[0], append(dcCmd[1:], "-p", project, "stats", "--no-stream")...)
		engine += floor()
	}
	b.StopTimer()
	b.ReportMetric(stack.Seconds()/float64(b.N), "stack-s")
	b.ReportMetric(dc.Seconds()/float64(b.N), "compose-s")
	b.ReportMetric(engine.Seconds()/float64(b.N), "floor-s")
}

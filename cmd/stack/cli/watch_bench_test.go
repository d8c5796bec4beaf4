package cli_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

// BenchmarkWatch measures, in one run, the time from saving a file to the
// change being served, with `stack watch` (behind its gateway) and `docker
// compose watch` (the port published directly) on the same Go service
// (watchApp): a static file synced into the running container, and main.go
// changed, the image rebuilt and the container replaced. It prints
// milliseconds per sync (ten per iteration) and seconds per rebuild for each, and stack's share
// of Compose's time (goal: 0.5 or less). Compose here has no buildx plugin,
// so it builds with the classic builder: no cache mount, every package of
// the service compiled again, as a Compose user without buildx has it. Run
// it with go test ./cmd/stack/cli -run '^$' -bench Watch -benchtime 3x
func BenchmarkWatch(b *testing.B) {
	const syncsPerOp = 10
	e2e.Engine(b)
	dc := e2e.Compose(b)
	type side struct {
		name     string
		base     string
		sync     time.Duration
		rebuild  time.Duration
		rebuilds int
	}
	var sides []*side
	for _, gateway := range []bool{true, false} {
		dir, p := b.TempDir(), port(b)
		name := e2e.ProjectName(b)
		b.Cleanup(func() { e2e.Docker(b, "image", "rm", "-f", name+"-web") })
		watchApp(b, dir, p, gateway)
		s := &side{name: "stack", base: fmt.Sprintf("http://127.0.0.1:%d", p)}
		if gateway {
			startBackground(b, dir, []string{"COMPOSE_PROJECT_NAME=" + name}, e2e.Binary(b), "watch")
		} else {
			s.name = "compose"
			cp := e2e.ComposeProject{Dir: dir, Name: name}
			b.Cleanup(func() { cp.Run(b, "down", "-t", "0") })
			startBackground(b, dir, nil, append(dc[:len(dc):len(dc)], "-p", name, "watch")...)
		}
		until(b, 10*time.Minute, s.name+" never serves the service", func() bool { v, _ := get(s.base + "/"); return v == "version v1" })
		// The watch starts once the service is up: wait until a sync lands.
		// (written once every 5 s: a watcher waits for the writes to stop)
		var written time.Time
		until(b, 2*time.Minute, s.name+" never syncs", func() bool {
			if time.Since(written) > 5*time.Second {
				e2e.WriteFiles(b, dir, map[string]string{"static/page.txt": "ready\n"})
				written = time.Now()
			}
			v, _ := get(s.base + "/static/page.txt")
			return v == "ready\n"
		})
		sides = append(sides, s)
		// Ten syncs per iteration, a second apart: one sync is short, and
		// this engine's copy time varies from one to the next.
		for i := 0; i < syncsPerOp*b.N; i++ {
			time.Sleep(time.Second) // a save a second, as a user's; what is measured starts after it
			want := fmt.Sprintf("%s %d\n", s.name, i)
			e2e.WriteFiles(b, dir, map[string]string{"static/page.txt": want})
			s.sync += until(b, time.Minute, s.name+": the edited file is not served", func() bool { v, _ := get(s.base + "/static/page.txt"); return v == want })
		}
		for i := 0; i < b.N; i++ {
			// A version no earlier run built: no layer cache to hit.
			version := fmt.Sprintf("%s-%d", name, i+2)
			e2e.WriteFiles(b, dir, map[string]string{"main.go": webMain(version)})
			s.rebuild += until(b, 10*time.Minute, s.name+": the rebuilt service is not served", func() bool { v, _ := get(s.base + "/"); return v == "version "+version })
			s.rebuilds++
		}
	}
	n := float64(b.N)
	for _, s := range sides {
		b.ReportMetric(float64(s.sync.Milliseconds())/n/syncsPerOp, s.name+"-sync-ms")
		b.ReportMetric(s.rebuild.Seconds()/n, s.name+"-rebuild-s")
	}
	b.ReportMetric(sides[0].sync.Seconds()/sides[1].sync.Seconds(), "sync-stack/compose")
	b.ReportMetric(sides[0].rebuild.Seconds()/sides[1].rebuild.Seconds(), "rebuild-stack/compose")
}

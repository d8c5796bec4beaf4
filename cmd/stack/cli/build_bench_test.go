package cli_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

// BenchmarkUp10BuildServices runs the stack binary's `up` on a project of 10
// services with build sections (each context: a Dockerfile and 20 small
// files, a sleeping busybox), converged once beforehand, and measures in the
// same run `stack up` with nothing changed (no build call: inputs digests
// match) against `stack up --build` (10 build calls the engine's layer cache
// answers). Build requests are counted at an engine proxy.
func BenchmarkUp10BuildServices(b *testing.B) {
	e2e.Engine(b)
	dir := b.TempDir()
	project := e2e.ProjectName(b)
	files := map[string]string{}
	var compose strings.Builder
	compose.WriteString("name: " + project + "\nservices:\n")
	for i := range 10 {
		svc := fmt.Sprintf("svc%02d", i)
		fmt.Fprintf(&compose, "  %s:\n    build: ./%s\n    init: true\n", svc, svc)
		files[svc+"/Dockerfile"] = "FROM busybox:stable\nCOPY . /app\nCMD [\"sleep\", \"3600\"]\n"
		for j := range 20 {
			files[fmt.Sprintf("%s/src/file%02d.txt", svc, j)] = strings.Repeat(fmt.Sprintf("%s line %d\n", svc, j), 200)
		}
	}
	files["compose.yaml"] = compose.String()
	e2e.WriteFiles(b, dir, files)
	proxy := startEngineProxy(b)
	// The binary is run directly, not through e2e.Cmd, whose per-run log of
	// the whole output a benchmark would print every time.
	up := func(args ...string) {
		b.Helper()
		cmd := exec.Command(e2e.Binary(b), append([]string{"up"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "DOCKER_HOST="+proxy.host)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("stack up %v: %v\n%s", args, err, out)
		}
	}
	// Runs before e2e.ProjectName's cleanup, so it removes the containers
	// itself before the images they use.
	b.Cleanup(func() {
		e2e.RemoveProject(b, project)
		for i := range 10 {
			_, _ = exec.Command("docker", "rmi", fmt.Sprintf("%s-svc%02d", project, i)).CombinedOutput()
		}
	})
	up()
	proxy.take()

	var unchanged, forced time.Duration
	var unchangedBuilds, forcedBuilds int
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		up()
		unchanged += time.Since(start)
		unchangedBuilds += proxy.take()

		start = time.Now()
		up("--build")
		forced += time.Since(start)
		forcedBuilds += proxy.take()
	}
	b.StopTimer()
	per := func(d time.Duration) float64 { return float64(d.Milliseconds()) / float64(b.N) }
	b.ReportMetric(per(unchanged), "unchanged-ms/op")
	b.ReportMetric(per(forced), "forced-ms/op")
	b.ReportMetric(float64(unchangedBuilds)/float64(b.N), "unchanged-builds/op")
	b.ReportMetric(float64(forcedBuilds)/float64(b.N), "forced-builds/op")
}

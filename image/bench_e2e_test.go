package image_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/internal/e2e"
)

// BenchmarkEnsure10Services measures the build step of `stack up` for a
// project of 10 services with build sections (each context: a Dockerfile and
// 20 small files), in the same run: nothing changed (every service up to
// date: a digest of its context, one image inspect, no build call) against a
// forced rebuild (--build: 10 build calls that the engine's layer cache
// answers). It prints ms per Ensure for both and the build calls made.
func BenchmarkEnsure10Services(b *testing.B) {
	e2e.Engine(b)
	files := map[string]string{}
	var compose strings.Builder
	compose.WriteString("services:\n")
	for i := range 10 {
		svc := fmt.Sprintf("svc%02d", i)
		fmt.Fprintf(&compose, "  %s:\n    build: ./%s\n", svc, svc)
		files[svc+"/Dockerfile"] = "FROM busybox:stable\nCOPY . /app\nRUN ls /app > /manifest.txt\n"
		for j := range 20 {
			files[fmt.Sprintf("%s/src/file%02d.txt", svc, j)] = strings.Repeat(fmt.Sprintf("%s line %d\n", svc, j), 200)
		}
	}
	files["compose.yaml"] = compose.String()
	f := newFixture(b, files)
	if _, err := f.ensure(b.Context(), image.EnsureOptions{}); err != nil {
		b.Fatal(err)
	}
	f.cc.take()

	var unchanged, forced time.Duration
	var unchangedBuilds, forcedBuilds int
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if _, err := f.ensure(b.Context(), image.EnsureOptions{}); err != nil {
			b.Fatal(err)
		}
		unchanged += time.Since(start)
		n, _ := f.cc.take()
		unchangedBuilds += n

		start = time.Now()
		if _, err := f.ensure(b.Context(), image.EnsureOptions{Build: image.BuildAlways}); err != nil {
			b.Fatal(err)
		}
		forced += time.Since(start)
		n, _ = f.cc.take()
		forcedBuilds += n
	}
	b.StopTimer()
	per := func(d time.Duration) float64 { return float64(d.Milliseconds()) / float64(b.N) }
	b.ReportMetric(per(unchanged), "unchanged-ms/op")
	b.ReportMetric(per(forced), "forced-ms/op")
	b.ReportMetric(float64(unchangedBuilds)/float64(b.N), "unchanged-builds/op")
	b.ReportMetric(float64(forcedBuilds)/float64(b.N), "forced-builds/op")
}

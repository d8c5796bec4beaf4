package manifest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// benchServices is the size of the generated manifest: the goal is `stack
// config` and `stack plan` on it in at most half the time of `docker
// compose config`, under 100 MB.
const benchServices = 1000

// The benchmarks that run a binary come first: a child's peak memory (the
// kernel's max RSS) counts the highest memory the benchmark process had
// when it started the child, which stays small only until a benchmark has
// loaded a manifest in process. The manifests are written as they are
// generated, for the same reason.

// BenchmarkConfig1000 runs `docker compose config` and `stack config` on
// the same 1,000 services (without depends_on, which Compose takes minutes
// to check), as a user would: time per run, peak resident memory, and
// stack's time as a fraction of Compose's. stack loads through compose-go
// (cold) or from its model cache (cached: nothing changed since the last
// run). Compose is $COMPOSE (a docker-compose binary), else `docker
// compose`; without either its line says so.
func BenchmarkConfig1000(b *testing.B) {
	dir := b.TempDir()
	writeManifest(b, dir, benchServices, false)
	bin := e2e.Binary(b)
	var compose float64
	b.Run("compose", func(b *testing.B) {
		compose = runBinary(b, dir, nil, append(e2e.Compose(b), "config")...)
	})
	b.Run("stack-cold", func(b *testing.B) {
		vsCompose(b, compose, runBinary(b, dir, []string{"STACK_CACHE=off"}, bin, "config", "--no-inject"))
	})
	b.Run("stack-cached", func(b *testing.B) {
		env := []string{"STACK_CACHE=on", "XDG_CACHE_HOME=" + b.TempDir()}
		runOnce(b, dir, env, bin, "config", "--no-inject")
		vsCompose(b, compose, runBinary(b, dir, env, bin, "config", "--no-inject"))
	})
}

// BenchmarkPlan1000 runs `stack plan` on the same manifest against the
// real engine (it observes what the project has there: nothing, under a
// project name of its own), cold and cached, beside Compose's config.
func BenchmarkPlan1000(b *testing.B) {
	e2e.Engine(b)
	dir := b.TempDir()
	writeManifest(b, dir, benchServices, false)
	bin := e2e.Binary(b)
	name := e2e.ProjectName(b)
	var compose float64
	b.Run("compose-config", func(b *testing.B) {
		compose = runBinary(b, dir, nil, append(e2e.Compose(b), "config")...)
	})
	b.Run("stack-cold", func(b *testing.B) {
		vsCompose(b, compose, runBinary(b, dir, []string{"STACK_CACHE=off"}, bin, "-p", name, "plan"))
	})
	b.Run("stack-cached", func(b *testing.B) {
		env := []string{"STACK_CACHE=on", "XDG_CACHE_HOME=" + b.TempDir()}
		runOnce(b, dir, env, bin, "-p", name, "plan")
		vsCompose(b, compose, runBinary(b, dir, env, bin, "-p", name, "plan"))
	})
}

// BenchmarkConfigSize runs `stack config` (cold) on manifests of 1, 2 and 5
// MB: linear loading is a constant time and memory per megabyte. Compose
// refuses a document of more than 100,000 YAML nodes (about 1.3 MB of these
// services), which its line then says.
func BenchmarkConfigSize(b *testing.B) {
	bin := e2e.Binary(b)
	for _, mb := range []int{1, 2, 5} {
		dir := b.TempDir()
		n := writeManifest(b, dir, mb*(1<<20)/bytesPerService, false)
		b.Run(fmt.Sprintf("%dMB/compose", mb), func(b *testing.B) {
			perMB(b, mb, runBinary(b, dir, nil, append(e2e.Compose(b), "config")...))
		})
		b.Run(fmt.Sprintf("%dMB/stack", mb), func(b *testing.B) {
			b.ReportMetric(float64(n), "services")
			perMB(b, mb, runBinary(b, dir, []string{"STACK_CACHE=off"}, bin, "config", "--no-inject"))
		})
	}
}

// BenchmarkLoad1000 loads (and validates) 1,000 services in process, with
// depends_on: the benchmark to profile (go test -cpuprofile).
func BenchmarkLoad1000(b *testing.B) {
	dir := b.TempDir()
	writeManifest(b, dir, benchServices, true)
	b.ReportAllocs()
	for b.Loop() {
		p, err := Load(b.Context(), Options{ProjectDirectory: dir, Env: []string{"PWD=" + dir}})
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Project.Services) != benchServices {
			b.Fatalf("loaded %d services", len(p.Project.Services))
		}
	}
}

// skip skips b saying why on the benchmark output itself: go test -bench
// prints neither a skipped benchmark nor its log without -v.
func skip(b *testing.B, why string) {
	fmt.Printf("%-40s skipped: %s\n", b.Name(), why)
	b.SkipNow()
}

// runBinary runs argv in dir b.N times and returns the time per run in
// nanoseconds, reporting the peak resident memory of the runs.
func runBinary(b *testing.B, dir string, env []string, argv ...string) float64 {
	var peak int64
	for b.Loop() {
		peak = max(peak, runOnce(b, dir, env, argv...))
	}
	b.ReportMetric(float64(peak)/1024, "peak-RSS-MB")
	return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
}

// runOnce runs argv in dir and returns its peak resident memory in KiB; a
// run that fails, or loads fewer services than written, fails b (Compose's
// refusal of a large file skips it).
func runOnce(b *testing.B, dir string, env []string, argv ...string) int64 {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(benchEnv(dir), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if strings.Contains(stderr.String(), "maximum node visit limit") {
			skip(b, fmt.Sprintf("%s refuses the file: %s", argv[0], strings.TrimSpace(stderr.String())))
		}
		b.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, stderr.String())
	}
	if got, want := strings.Count(string(out), "\n  svc")+strings.Count(string(out), "service:svc"), servicesIn(b, dir); got != want {
		b.Fatalf("%s printed %d services of %d", strings.Join(argv, " "), got, want)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss // KiB on Linux
	}
	return 0
}

// benchEnv is the environment of a run: the benchmark's, without what
// would change the project (COMPOSE_*), the Go runtime's tuning, or CI
// (stack keeps no model cache in CI).
func benchEnv(dir string) []string {
	env := []string{"PWD=" + dir}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "COMPOSE_") || k == "GOGC" || k == "GOMEMLIMIT" || k == "CI" || k == "STACK_CACHE" || k == "PWD" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func vsCompose(b *testing.B, compose, stack float64) {
	if compose > 0 {
		b.ReportMetric(stack/compose, "x-compose")
	}
}

func perMB(b *testing.B, mb int, ns float64) {
	b.ReportMetric(ns/1e9/float64(mb), "s/MB")
}

// bytesPerService is about what writeManifest writes for one service.
const bytesPerService = 400

// writeManifest writes dir/compose.yaml of n services shaped like real ones
// (image, ports, environment with interpolation, a named volume, a bind
// mount, a healthcheck, labels), with depends_on on up to two earlier
// services when deps is set, and records n in dir/.services. It returns n.
func writeManifest(tb testing.TB, dir string, n int, deps bool) int {
	tb.Helper()
	f, err := os.Create(filepath.Join(dir, "compose.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	w.WriteString("services:\n")
	for i := range n {
		fmt.Fprintf(w, "  svc%05d:\n", i)
		fmt.Fprintf(w, "    image: registry.example.com/team/svc%05d:${TAG:-1.0.%d}\n", i, i)
		fmt.Fprintf(w, "    ports: [\"%d:8080\"]\n", 10000+i%50000)
		w.WriteString("    environment:\n")
		fmt.Fprintf(w, "      SERVICE_NAME: svc%05d\n      LOG_LEVEL: ${LOG_LEVEL:-info}\n      REPLICA: \"%d\"\n", i, i%3)
		fmt.Fprintf(w, "    volumes: [\"data%05d:/var/lib/data\", \"./conf:/etc/app:ro\"]\n", i)
		w.WriteString("    healthcheck:\n      test: [\"CMD\", \"/app\", \"-health\"]\n      interval: 10s\n")
		fmt.Fprintf(w, "    labels:\n      com.example.index: \"%d\"\n", i)
		if deps && i > 0 {
			fmt.Fprintf(w, "    depends_on:\n      svc%05d:\n        condition: service_healthy\n", i-1)
			if i > 2 {
				fmt.Fprintf(w, "      svc%05d:\n        condition: service_started\n", i/2)
			}
		}
	}
	w.WriteString("volumes:\n")
	for i := range n {
		fmt.Fprintf(w, "  data%05d: {}\n", i)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".services"), []byte(fmt.Sprint(n)), 0o644); err != nil {
		tb.Fatal(err)
	}
	return n
}

func servicesIn(tb testing.TB, dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, ".services"))
	if err != nil {
		tb.Fatal(err)
	}
	var n int
	if _, err := fmt.Sscan(string(b), &n); err != nil {
		tb.Fatal(err)
	}
	return n
}

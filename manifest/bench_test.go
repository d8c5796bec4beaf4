package manifest

import (
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
// config` on it in under 0.5 s and 100 MB.
const benchServices = 1000

// genManifest writes a compose file of n services shaped like real ones:
// image, ports, environment with interpolation, a named volume, a
// healthcheck, labels, and depends_on on up to two earlier services.
func genManifest(tb testing.TB, n int) string {
	tb.Helper()
	var b strings.Builder
	b.WriteString("services:\n")
	for i := range n {
		fmt.Fprintf(&b, "  svc%04d:\n", i)
		fmt.Fprintf(&b, "    image: registry.example.com/team/svc%04d:${TAG:-1.0.%d}\n", i, i)
		fmt.Fprintf(&b, "    ports: [\"%d:8080\"]\n", 10000+i)
		b.WriteString("    environment:\n")
		fmt.Fprintf(&b, "      SERVICE_NAME: svc%04d\n      LOG_LEVEL: ${LOG_LEVEL:-info}\n      REPLICA: \"%d\"\n", i, i%3)
		fmt.Fprintf(&b, "    volumes: [\"data%04d:/var/lib/data\", \"./conf:/etc/app:ro\"]\n", i)
		b.WriteString("    healthcheck:\n      test: [\"CMD\", \"/app\", \"-health\"]\n      interval: 10s\n")
		fmt.Fprintf(&b, "    labels:\n      com.example.index: \"%d\"\n", i)
		if i > 0 {
			fmt.Fprintf(&b, "    depends_on:\n      svc%04d:\n        condition: service_healthy\n", i-1)
			if i > 2 {
				fmt.Fprintf(&b, "      svc%04d:\n        condition: service_started\n", i/2)
			}
		}
	}
	b.WriteString("volumes:\n")
	for i := range n {
		fmt.Fprintf(&b, "  data%04d: {}\n", i)
	}
	dir := tb.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(b.String()), 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// BenchmarkConfigBinary1000 runs the built `stack config` on the generated
// manifest, as a user would: time per run, and the process's peak resident
// memory (the kernel's max RSS) as peak-RSS-MB. It comes before
// BenchmarkLoad1000 on purpose: a child's max RSS counts the memory of the
// process it was forked from, which is small only until that one has loaded
// the manifest itself.
func BenchmarkConfigBinary1000(b *testing.B) {
	dir := genManifest(b, benchServices)
	bin := e2e.Binary(b)
	var peak int64
	for b.Loop() {
		cmd := exec.Command(bin, "config")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PWD="+dir)
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("stack config: %v", err)
		}
		if n := strings.Count(string(out), "\n  svc"); n != benchServices {
			b.Fatalf("stack config printed %d services", n)
		}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			peak = max(peak, ru.Maxrss) // KiB on Linux
		}
	}
	b.ReportMetric(float64(peak)/1024, "peak-RSS-MB")
}

// BenchmarkLoad1000 loads (and validates) the generated manifest in process.
func BenchmarkLoad1000(b *testing.B) {
	dir := genManifest(b, benchServices)
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

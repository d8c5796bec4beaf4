package image_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

// goService writes a Go HTTP service of 20 packages (about 200 functions
// each) and a main package, with the Dockerfile given; what a one-line
// change of main.go costs is what the benchmark measures.
func goService(b *testing.B, dir, dockerfile string) {
	b.Helper()
	files := map[string]string{
		"compose.yaml": "services:\n  svc:\n    build: .\n",
		"Dockerfile":   dockerfile,
		"go.mod":       "module svc\n\ngo 1.26\n",
	}
	var imports, calls strings.Builder
	for p := range 20 {
		var src strings.Builder
		fmt.Fprintf(&src, "package pkg%02d\n\nimport \"strconv\"\n\n", p)
		for f := range 200 {
			fmt.Fprintf(&src, "func F%d(n int) string {\n\tif n%%%d == 0 {\n\t\treturn strconv.Itoa(n * %d)\n\t}\n\treturn strconv.Itoa(n + %d)\n}\n\n", f, f+2, p+1, f)
		}
		files[fmt.Sprintf("pkg%02d/pkg.go", p)] = src.String()
		fmt.Fprintf(&imports, "\t\"svc/pkg%02d\"\n", p)
		fmt.Fprintf(&calls, "\t\tfmt.Fprintln(w, pkg%02d.F1(%d))\n", p, p)
	}
	files["main.go"] = "package main\n\nimport (\n\t\"fmt\"\n\t\"net/http\"\n\n" + imports.String() + ")\n\nconst version = \"0\"\n\n" +
		"func main() {\n\thttp.HandleFunc(\"/\", func(w http.ResponseWriter, _ *http.Request) {\n\t\tfmt.Fprintln(w, version)\n" + calls.String() + "\t})\n\t_ = http.ListenAndServe(\":8080\", nil)\n}\n"
	e2e.WriteFiles(b, dir, files)
}

// changeVersion is the one-line change: main.go's version constant, to a
// value no build has seen (the builders' caches must not answer it).
func changeVersion(b *testing.B, dir, v string) {
	b.Helper()
	path := filepath.Join(dir, "main.go")
	src, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "const version = ") {
			lines[i] = fmt.Sprintf("const version = %q", v)
		}
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkGoServiceRebuild measures rebuilding a Go service after a
// one-line change of its main package, in the same run: `stack build` with
// `RUN --mount=type=cache,target=/root/.cache/go-build go build` (the
// engine's BuildKit keeps the compiler's cache between builds, so only the
// changed package compiles), against `docker compose build` of the same
// service written for the classic builder, which a Compose user without
// the buildx plugin must write (no cache mount: every package compiles
// again). Both start from builds already made once. It prints seconds per
// rebuild for each and stack's share of Compose's time (goal: 0.5 or less).
func BenchmarkGoServiceRebuild(b *testing.B) {
	e2e.Engine(b)
	compose := e2e.Compose(b)
	stack := e2e.Binary(b)
	const build = "go build -trimpath -o /svc ."
	stackDir, composeDir := b.TempDir(), b.TempDir()
	goService(b, stackDir, "FROM golang:1.26\nWORKDIR /src\nCOPY . .\nRUN --mount=type=cache,target=/root/.cache/go-build "+build+"\n")
	goService(b, composeDir, "FROM golang:1.26\nWORKDIR /src\nCOPY . .\nRUN "+build+"\n")
	stackName, composeName := e2e.ProjectName(b), e2e.ProjectName(b)
	var images []string
	run := func(dir string, argv ...string) time.Duration {
		b.Helper()
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CI=true")
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
		}
		return time.Since(start)
	}
	remember := func(ref string) {
		if id := e2e.Docker(b, "image", "inspect", "--format", "{{.Id}}", ref); id != "" {
			images = append(images, id)
		}
	}
	b.Cleanup(func() {
		for _, ref := range []string{stackName + "-svc", composeName + "-svc"} {
			_, _ = exec.Command("docker", "rmi", ref).CombinedOutput()
		}
		for _, id := range images {
			_, _ = exec.Command("docker", "rmi", id).CombinedOutput()
		}
	})
	stackBuild := func() time.Duration {
		d := run(stackDir, stack, "-p", stackName, "build")
		remember(stackName + "-svc")
		return d
	}
	composeBuild := func() time.Duration {
		d := run(composeDir, append(compose, "-p", composeName, "build")...)
		remember(composeName + "-svc")
		return d
	}
	changeVersion(b, stackDir, stackName)
	stackBuild()
	changeVersion(b, composeDir, composeName)
	composeBuild()

	var stackTime, composeTime time.Duration
	b.ResetTimer()
	for i := range b.N {
		changeVersion(b, stackDir, fmt.Sprint(stackName, i))
		stackTime += stackBuild()
		changeVersion(b, composeDir, fmt.Sprint(composeName, i))
		composeTime += composeBuild()
	}
	b.StopTimer()
	per := func(d time.Duration) float64 { return d.Seconds() / float64(b.N) }
	b.ReportMetric(per(stackTime), "stack-s/op")
	b.ReportMetric(per(composeTime), "compose-s/op")
	b.ReportMetric(stackTime.Seconds()/composeTime.Seconds(), "stack/compose")
}

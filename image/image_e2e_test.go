package image_test

import (
	"archive/tar"
	"context"
	"errors"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/client"
	bkclient "github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"

	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/internal/e2e"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
)

// countingClient counts the build requests that reach the engine, and the
// order in which services' images were asked for.
type countingClient struct {
	image.Client
	builds atomic.Int32
	mu     sync.Mutex
	order  []string
}

func (c *countingClient) ImageBuild(ctx context.Context, r io.Reader, o build.ImageBuildOptions) (build.ImageBuildResponse, error) {
	c.record(o.Tags[0])
	return c.Client.ImageBuild(ctx, r, o)
}

func (c *countingClient) record(tag string) {
	c.builds.Add(1)
	c.mu.Lock()
	c.order = append(c.order, tag)
	c.mu.Unlock()
}

// countingBuildKit counts the Solve calls that reach the engine's BuildKit
// into the countingClient's figures, by the first tag each exports.
type countingBuildKit struct {
	image.BuildKit
	cc *countingClient
}

func (c *countingBuildKit) Solve(ctx context.Context, def *llb.Definition, opt bkclient.SolveOpt, ch chan *bkclient.SolveStatus) (*bkclient.SolveResponse, error) {
	tag, _, _ := strings.Cut(opt.Exports[0].Attrs["name"], ",")
	c.cc.record(tag)
	return c.BuildKit.Solve(ctx, def, opt, ch)
}

func (c *countingClient) take() (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	order := c.order
	c.order = nil
	return int(c.builds.Swap(0)), order
}

// fixture is one test's project, builder and the images its builds made.
type fixture struct {
	t    testing.TB
	name string
	p    *manifest.Project
	dir  string
	b    *image.Builder
	cc   *countingClient

	mu    sync.Mutex
	built []string
}

// newFixture writes files (compose.yaml among them) into a new directory,
// loads it under a unique project name, and at the end removes the tags
// named after the project and every image its builds produced. Builds go
// through the engine's BuildKit, or its classic builder when the test set
// DOCKER_BUILDKIT=0.
func newFixture(t testing.TB, files map[string]string) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir()}
	e2e.WriteFiles(t, f.dir, files)
	name := e2e.ProjectName(t)
	f.name = name
	if _, ok := files["compose.yaml"]; ok {
		f.reload(t)
	}
	c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	f.cc = &countingClient{Client: c}
	opts := []image.Option{image.WithClient(f.cc)}
	if os.Getenv("DOCKER_BUILDKIT") != "0" {
		bk, err := image.ConnectBuildKit(t.Context(), c)
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts, image.WithBuildKit(&countingBuildKit{BuildKit: bk, cc: f.cc}))
	}
	if f.b, err = image.New(opts...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, ref := range strings.Fields(e2e.Docker(t, "images", "--format", "{{.Repository}}:{{.Tag}}")) {
			if strings.HasPrefix(ref, name) {
				_, _ = exec.Command("docker", "rmi", ref).CombinedOutput()
			}
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		for i := len(f.built) - 1; i >= 0; i-- {
			_, _ = exec.Command("docker", "rmi", f.built[i]).CombinedOutput()
		}
		_ = c.Close()
	})
	return f
}

// reload loads the project (again, after a test changed its files).
func (f *fixture) reload(t testing.TB) {
	t.Helper()
	p, err := manifest.Load(t.Context(), manifest.Options{Files: []string{filepath.Join(f.dir, "compose.yaml")}, ProjectName: f.name, Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	f.p = p
}

// ensure runs Ensure and remembers the images built, for removal.
func (f *fixture) ensure(ctx context.Context, o image.EnsureOptions) (map[string]string, error) {
	ids, err := f.b.Ensure(ctx, f.p, nil, o)
	f.mu.Lock()
	defer f.mu.Unlock()
	for svc, id := range ids {
		if f.p.Project.Services[svc].Build != nil && !slices.Contains(f.built, id) {
			f.built = append(f.built, id)
		}
	}
	return ids, err
}

// events collects progress events for assertions.
type events struct{ progress.Recorder }

func (e *events) has(resource string, status progress.Status, message string) bool {
	for _, ev := range e.Events() {
		if ev.Resource == resource && ev.Status == status && strings.Contains(ev.Message, message) {
			return true
		}
	}
	return false
}

// exportFiles lists the paths of an image's filesystem and reads the
// contents of the regular files, through `docker create` + `docker export`.
func exportFiles(t *testing.T, ref string) map[string]string {
	t.Helper()
	id := e2e.Docker(t, "create", ref, "/none")
	if id == "" {
		t.Fatalf("docker create %s failed", ref)
	}
	defer e2e.Docker(t, "rm", id)
	cmd := exec.Command("docker", "export", id)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	tr := tar.NewReader(out)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		files["/"+strings.TrimSuffix(h.Name, "/")] = string(b)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("docker export %s: %v", ref, err)
	}
	return files
}

// Intent: a FROM scratch build sends the context through .dockerignore as
// docker does: the excluded file is really absent from the image, an
// exception inside an excluded directory is present.
func TestBuildHonoursDockerignoreE2E(t *testing.T) {
	e2e.Engine(t)
	f := newFixture(t, map[string]string{
		"compose.yaml":       "services:\n  app:\n    build: ./app\n",
		"app/Dockerfile":     "FROM scratch\nCOPY . /ctx/\n",
		"app/.dockerignore":  "secret.txt\nlogs\n!logs/keep.log\n",
		"app/keep.txt":       "kept",
		"app/secret.txt":     "do not ship",
		"app/logs/debug.log": "noise",
		"app/logs/keep.log":  "wanted",
	})
	ids, err := f.ensure(t.Context(), image.EnsureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := f.cc.take(); n != 1 {
		t.Fatalf("%d build calls, want 1", n)
	}
	ref := f.p.Name + "-app"
	if got := e2e.Docker(t, "image", "inspect", "--format", "{{.Id}}", ref); got != ids["app"] {
		t.Fatalf("Ensure returned %q for app, the engine has %q for %s", ids["app"], got, ref)
	}
	files := exportFiles(t, ref)
	if files["/ctx/keep.txt"] != "kept" || files["/ctx/logs/keep.log"] != "wanted" {
		t.Errorf("image lacks kept files: %v", files)
	}
	for _, absent := range []string{"/ctx/secret.txt", "/ctx/logs/debug.log"} {
		if _, ok := files[absent]; ok {
			t.Errorf("%s is in the image though .dockerignore excludes it", absent)
		}
	}
	if label := e2e.Docker(t, "image", "inspect", "--format", `{{index .Config.Labels "`+image.InputsLabel+`"}}`, ref); !strings.HasPrefix(label, "sha256:") {
		t.Errorf("label %s = %q, want the inputs digest", image.InputsLabel, label)
	}
}

// Intent: the context stack sends is the one `docker build` sends: for the
// same tree and a .dockerignore with globs, exceptions, excluded
// directories and an excluded Dockerfile, the images hold the same files.
func TestBuildContextMatchesDockerCLIE2E(t *testing.T) {
	e2e.Engine(t)
	f := newFixture(t, map[string]string{
		"compose.yaml":      "services:\n  app:\n    build: ./app\n",
		"app/Dockerfile":    "FROM scratch\nCOPY . /ctx/\n",
		"app/.dockerignore": "# comment\n**/*.tmp\n!important.tmp\ndir\n!dir/keep\n*/nested\nDockerfile\n.dockerignore\n/abs.txt\n",
		"app/a.txt":         "a", "app/abs.txt": "x", "app/x.tmp": "t", "app/important.tmp": "i",
		"app/dir/keep": "k", "app/dir/drop": "d", "app/dir/sub/keep": "k2",
		"app/lib/nested": "n", "app/lib/deep/nested": "n2", "app/lib/ok.go": "go", "app/lib/y.tmp": "t",
	})
	if _, err := f.ensure(t.Context(), image.EnsureOptions{}); err != nil {
		t.Fatal(err)
	}
	ref := f.p.Name + "-docker-cli"
	cmd := exec.Command("docker", "build", "-q", "-t", ref, filepath.Join(f.dir, "app"))
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	ours, theirs := exportFiles(t, f.p.Name+"-app"), exportFiles(t, ref)
	if !maps.Equal(ours, theirs) {
		t.Errorf("stack's context differs from docker's:\n stack  %v\n docker %v", slices.Sorted(maps.Keys(ours)), slices.Sorted(maps.Keys(theirs)))
	}
	if _, ok := ours["/ctx/dir/keep"]; !ok || len(ours) < 5 {
		t.Errorf("unexpected context: %v", slices.Sorted(maps.Keys(ours)))
	}
}

// Intent: both builders of engine 20.10, its BuildKit and its classic
// builder, honour multi-stage builds with target, args (meta ARG in FROM
// too), labels, extra_hosts, tags, network, dockerfile_inline and a
// Dockerfile outside the context; the
// classic builder sizes /dev/shm by shm_size, which the engine's BuildKit
// (v0.8) cannot, and says so.
func TestBuildSettingsE2E(t *testing.T) {
	e2e.Engine(t)
	for _, builder := range []string{"buildkit", "classic"} {
		t.Run(builder, func(t *testing.T) { testBuildSettings(t, builder) })
	}
}

func testBuildSettings(t *testing.T, builder string) {
	if builder == "classic" {
		t.Setenv("DOCKER_BUILDKIT", "0")
	}
	f := newFixture(t, map[string]string{
		"compose.yaml": `services:
  app:
    build:
      context: ./app
      target: final
      args:
        BASE: busybox:stable
        GREETING: hello from args
      labels:
        com.example.team: images
      extra_hosts:
        - "db.internal:10.1.2.3"
      tags:
        - ${COMPOSE_PROJECT_NAME}-extra:v1
  isolated:
    build:
      context: ./isolated
      network: none
      shm_size: 128m
  inline:
    build:
      context: ./inline
      dockerfile_inline: |
        FROM busybox:stable
        COPY msg /msg
  outside:
    build:
      context: ./outside
      dockerfile: ../outside.Dockerfile
`,
		"outside/msg":        "outside ok",
		"outside.Dockerfile": "FROM busybox:stable\nCOPY msg /msg\n",
		"app/Dockerfile": `ARG BASE=nosuch:image
FROM ${BASE} AS builder
ARG GREETING
RUN echo "$GREETING" > /greeting && grep db.internal /etc/hosts > /hosts-line
FROM scratch AS final
COPY --from=builder /greeting /hosts-line /
FROM busybox:stable AS debug
RUN echo debug > /debug
`,
		"inline/msg":          "inline ok",
		"isolated/Dockerfile": "FROM busybox:stable\nRUN cat /proc/net/dev > /netdev && df -k /dev/shm > /shm\n",
	})
	ev := &events{}
	if _, err := f.ensure(progress.WithSink(t.Context(), ev), image.EnsureOptions{}); err != nil {
		t.Fatal(err)
	}
	if n, _ := f.cc.take(); n != 4 {
		t.Errorf("%d build calls, want 4", n)
	}
	files := exportFiles(t, f.p.Name+"-app")
	if files["/greeting"] != "hello from args\n" {
		t.Errorf("/greeting = %q, want the build arg", files["/greeting"])
	}
	if !strings.Contains(files["/hosts-line"], "10.1.2.3") {
		t.Errorf("/hosts-line = %q, want extra_hosts' db.internal", files["/hosts-line"])
	}
	if _, ok := files["/debug"]; ok {
		t.Error("the debug stage after the target ended up in the image")
	}
	if got := e2e.Docker(t, "image", "inspect", "--format", `{{index .Config.Labels "com.example.team"}}`, f.p.Name+"-extra:v1"); got != "images" {
		t.Errorf("tag %s-extra:v1 with label com.example.team: got %q", f.p.Name, got)
	}
	isolated := exportFiles(t, f.p.Name+"-isolated")
	if nd := isolated["/netdev"]; !strings.Contains(nd, "lo:") || strings.Contains(nd, "eth0") {
		t.Errorf("network: none: the build saw interfaces\n%s", nd)
	}
	switch {
	case builder == "classic" && !strings.Contains(isolated["/shm"], "131072"):
		t.Errorf("shm_size: 128m: /dev/shm is\n%s", isolated["/shm"])
	case builder == "classic" && !ev.has("builder", progress.Warning, "classic builder (DOCKER_BUILDKIT=0)"):
		t.Errorf("no warning about the classic builder: %+v", ev.Events())
	case builder == "buildkit" && sizesShm(t) && !strings.Contains(isolated["/shm"], "131072"):
		t.Errorf("shm_size: 128m on an engine whose BuildKit sizes /dev/shm: /dev/shm is\n%s", isolated["/shm"])
	case builder == "buildkit" && !sizesShm(t) && !ev.has("image:isolated", progress.Warning, "build.shm_size"):
		t.Errorf("no warning that shm_size is not applied: %+v", ev.Events())
	}
	if got := exportFiles(t, f.p.Name+"-inline"); got["/msg"] != "inline ok" {
		t.Errorf("dockerfile_inline image /msg = %q", got["/msg"])
	}
	if got := exportFiles(t, f.p.Name+"-outside"); got["/msg"] != "outside ok" {
		t.Errorf("a Dockerfile outside the context: image /msg = %q", got["/msg"])
	}
}

// Intent: a second run with nothing changed makes no build call and keeps the
// image IDs; changing one service's context rebuilds that service only;
// --build forces; --no-build never builds.
func TestEnsureSkipsUnchangedBuildsE2E(t *testing.T) {
	e2e.Engine(t)
	f := newFixture(t, map[string]string{
		"compose.yaml":    "services:\n  a:\n    build: ./a\n  b:\n    build: ./b\n",
		"a/Dockerfile":    "FROM busybox:stable\nCOPY file /file\n",
		"a/file":          "a1",
		"b/Dockerfile":    "FROM busybox:stable\nCOPY file /file\n",
		"b/file":          "b1",
		"b/.dockerignore": "scratch-notes\n",
	})
	ensure := func(o image.EnsureOptions) (map[string]string, *events) {
		t.Helper()
		ev := &events{}
		ids, err := f.ensure(progress.WithSink(t.Context(), ev), o)
		if err != nil {
			t.Fatal(err)
		}
		return ids, ev
	}
	first, _ := ensure(image.EnsureOptions{})
	if n, _ := f.cc.take(); n != 2 {
		t.Fatalf("first run: %d build calls, want 2", n)
	}
	second, ev := ensure(image.EnsureOptions{})
	if n, _ := f.cc.take(); n != 0 {
		t.Fatalf("second run with nothing changed: %d build calls, want 0", n)
	}
	if !maps.Equal(first, second) {
		t.Fatalf("image IDs changed without a change: %v -> %v", first, second)
	}
	if !ev.has("image:a", progress.Done, "up to date") || !ev.has("image:b", progress.Done, "up to date") {
		t.Errorf("no up to date events: %+v", ev.Events())
	}

	e2e.WriteFiles(t, f.dir, map[string]string{"a/file": "a2", "b/scratch-notes": "ignored"})
	third, _ := ensure(image.EnsureOptions{})
	if n, order := f.cc.take(); n != 1 || order[0] != f.p.Name+"-a" {
		t.Fatalf("after changing a/file: builds %v, want only %s-a", order, f.p.Name)
	}
	if third["a"] == second["a"] || third["b"] != second["b"] {
		t.Fatalf("after changing a/file: IDs %v -> %v, want a new and b kept", second, third)
	}

	ensure(image.EnsureOptions{Build: image.BuildAlways})
	if n, _ := f.cc.take(); n != 2 {
		t.Fatalf("BuildAlways: %d build calls, want 2", n)
	}
	e2e.WriteFiles(t, f.dir, map[string]string{"b/file": "b2"})
	never, _ := ensure(image.EnsureOptions{Build: image.BuildNever})
	if n, _ := f.cc.take(); n != 0 {
		t.Fatalf("BuildNever: %d build calls, want 0", n)
	}
	if never["a"] == "" || never["b"] == "" {
		t.Fatalf("BuildNever returned %v, want the existing images", never)
	}
}

// Intent: a service whose Dockerfile is FROM another service's image builds
// after it, and is rebuilt when that base image changes.
func TestEnsureBuildsBaseImagesFirstE2E(t *testing.T) {
	e2e.Engine(t)
	f := newFixture(t, map[string]string{
		"compose.yaml":    "services:\n  app:\n    build: ./app\n  base:\n    image: ${COMPOSE_PROJECT_NAME}-base:dev\n    build: ./base\n",
		"base/Dockerfile": "FROM busybox:stable\nCOPY version /version\n",
		"base/version":    "1",
		"app/Dockerfile":  "ARG NAME\nFROM ${COMPOSE_PROJECT_NAME:-x}-base:dev\n",
	})
	// The FROM line names the base through a build arg-free meta ARG; use a
	// literal name instead so the test does not depend on env interpolation.
	e2e.WriteFiles(t, f.dir, map[string]string{"app/Dockerfile": "FROM " + f.p.Name + "-base:dev\nRUN cat /version > /seen\n"})
	first, err := f.ensure(t.Context(), image.EnsureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, order := f.cc.take(); !slices.Equal(order, []string{f.p.Name + "-base:dev", f.p.Name + "-app"}) {
		t.Fatalf("build order %v, want base then app", order)
	}
	e2e.WriteFiles(t, f.dir, map[string]string{"base/version": "2"})
	second, err := f.ensure(t.Context(), image.EnsureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := f.cc.take(); n != 2 || second["app"] == first["app"] {
		t.Fatalf("after changing the base: %d builds, app %s -> %s; want both rebuilt", n, first["app"], second["app"])
	}
	if got := exportFiles(t, f.p.Name+"-app"); got["/seen"] != "2" {
		t.Errorf("app saw base version %q, want 2", got["/seen"])
	}
}

// Intent: an image neither on the engine nor pullable fails Ensure with the
// service and image named, before any build starts; pull_policy never does
// not try the registry.
func TestEnsureMissingImageFailsFirstE2E(t *testing.T) {
	e2e.Engine(t)
	reg := e2e.StartRegistry(t)
	t.Setenv("DOCKER_CONFIG", e2e.DockerConfig(t, reg))
	missing := reg.Ref("shop/nosuch:1.0")
	f := newFixture(t, map[string]string{
		"compose.yaml":   "services:\n  web:\n    build: ./web\n  db:\n    image: " + missing + "\n  cache:\n    image: nosuch-local-image:1\n    pull_policy: never\n",
		"web/Dockerfile": "FROM busybox:stable\n",
	})
	_, err := f.ensure(t.Context(), image.EnsureOptions{})
	if !errors.Is(err, image.ErrNotFound) {
		t.Fatalf("Ensure: %v, want ErrNotFound", err)
	}
	for _, want := range []string{`service "db"`, missing, `service "cache"`, "nosuch-local-image:1", "pull_policy is never"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q:\n%v", want, err)
		}
	}
	if n, _ := f.cc.take(); n != 0 {
		t.Errorf("%d build calls before the pull failure was reported, want 0", n)
	}
	if s := reg.Stats(); s.Requests == 0 {
		t.Errorf("the registry saw no authenticated request for %s: %+v", missing, s)
	}
}

// Intent: images missing locally are pulled from a registry that requires
// the credentials in the Docker config: an image: service's image, and a
// build's FROM image (which the classic builder could not pull by itself:
// it gets no credentials).
func TestEnsurePullsWithDockerConfigAuthE2E(t *testing.T) {
	e2e.Engine(t)
	reg := e2e.StartRegistry(t)
	cfg := e2e.DockerConfig(t, reg)
	t.Setenv("DOCKER_CONFIG", cfg)
	f := newFixture(t, map[string]string{})
	run, base := reg.Ref("mirror/busybox:"+f.name), reg.Ref("mirror/base:"+f.name)
	for _, ref := range []string{run, base} {
		for _, args := range [][]string{{"tag", "busybox:stable", ref}, {"--config", cfg, "push", ref}, {"rmi", ref}} {
			if out, err := exec.Command("docker", args...).CombinedOutput(); err != nil {
				t.Fatalf("docker %v: %v\n%s", args, err, out)
			}
		}
		t.Cleanup(func() { _, _ = exec.Command("docker", "rmi", ref).CombinedOutput() })
	}
	e2e.WriteFiles(t, f.dir, map[string]string{
		"compose.yaml":   "services:\n  box:\n    image: " + run + "\n  app:\n    build: ./app\n",
		"app/Dockerfile": "FROM " + base + "\nRUN echo built > /built\n",
	})
	f.reload(t)
	reg.Reset()
	ev := &events{}
	ids, err := f.ensure(progress.WithSink(t.Context(), ev), image.EnsureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	busybox := e2e.Docker(t, "image", "inspect", "--format", "{{.Id}}", "busybox:stable")
	if ids["box"] != busybox || e2e.Docker(t, "image", "inspect", "--format", "{{.Id}}", base) != busybox {
		t.Errorf("pulled %s for box and %q for the base, want busybox:stable's %s", ids["box"], e2e.Docker(t, "image", "inspect", "--format", "{{.Id}}", base), busybox)
	}
	if exportFiles(t, f.p.Name+"-app")["/built"] != "built\n" {
		t.Error("app was not built on the pulled base")
	}
	if s := reg.Stats(); s.Requests < 2 || !ev.has("image:box", progress.Done, "pulled") {
		t.Errorf("no authenticated pull: stats %+v", s)
	}
}

// sizesShm asks the engine whether its BuildKit sizes /dev/shm for build
// steps: v0.11 and later, Docker 23 (Engine API 1.42) and later; Docker
// 20.10 runs v0.8.
func sizesShm(t *testing.T) bool {
	api := e2e.Docker(t, "version", "--format", "{{.Server.APIVersion}}")
	_, minor, _ := strings.Cut(api, ".")
	m, err := strconv.Atoi(minor)
	return err == nil && strings.HasPrefix(api, "1.") && m >= 42
}

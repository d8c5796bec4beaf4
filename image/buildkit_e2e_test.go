package image_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/client"
	"golang.org/x/crypto/ssh"

	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/internal/e2e"
	"github.com/stack-deploy/stack/progress"
)

// Intent: RUN --mount=type=cache keeps its directory from one build to the
// next: after a one-line change of a source file the step runs again and
// finds what the first build left in the cache.
func TestBuildKitCacheMountE2E(t *testing.T) {
	e2e.Engine(t)
	f := newFixture(t, map[string]string{"compose.yaml": "services:\n  app:\n    build: ./app\n", "app/src.txt": "version 1\n"})
	// A cache of its own (id), so that no other run's builds meet in it.
	e2e.WriteFiles(t, f.dir, map[string]string{"app/Dockerfile": "FROM busybox:stable\nCOPY src.txt /src.txt\n" +
		"RUN --mount=type=cache,id=" + f.name + ",target=/cache sh -c 'cat /cache/log > /prev 2>/dev/null; cat /src.txt >> /cache/log; true'\n"})
	if _, err := f.ensure(t.Context(), image.EnsureOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := exportFiles(t, f.name+"-app")["/prev"]; got != "" {
		t.Fatalf("first build found %q in a new cache", got)
	}
	e2e.WriteFiles(t, f.dir, map[string]string{"app/src.txt": "version 2\n"})
	if _, err := f.ensure(t.Context(), image.EnsureOptions{}); err != nil {
		t.Fatal(err)
	}
	if n, _ := f.cc.take(); n != 2 {
		t.Fatalf("%d build calls, want 2", n)
	}
	if got := exportFiles(t, f.name+"-app")["/prev"]; got != "version 1\n" {
		t.Fatalf("rebuild found %q in the cache, want the first build's \"version 1\\n\"", got)
	}
}

// Intent: a forced build whose inputs did not change gives the same image
// ID, whatever the other services built before it on the engine: `up
// --build` then recreates nothing. Model: four services, each its own
// context of a directory and files, built, then built again twice with
// --build.
func TestBuildKitForcedRebuildKeepsImageIDE2E(t *testing.T) {
	e2e.Engine(t)
	files := map[string]string{"compose.yaml": "services:\n"}
	for _, svc := range []string{"a", "b", "c", "d"} {
		files["compose.yaml"] += "  " + svc + ":\n    build: ./" + svc + "\n"
		files[svc+"/Dockerfile"] = "FROM busybox:stable\nCOPY . /app\n"
		files[svc+"/src/"+svc+".txt"] = strings.Repeat(svc, 100)
	}
	f := newFixture(t, files)
	first, err := f.ensure(t.Context(), image.EnsureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		again, err := f.ensure(t.Context(), image.EnsureOptions{Build: image.BuildAlways})
		if err != nil {
			t.Fatal(err)
		}
		for svc, id := range first {
			if again[svc] != id {
				t.Errorf("service %s: forced rebuild of unchanged inputs gave image %s, want %s", svc, again[svc], id)
			}
		}
	}
	if n, _ := f.cc.take(); n != 12 {
		t.Errorf("%d build calls, want 12", n)
	}
}

// Intent: build secrets from a file and from a variable of the project's
// .env are readable in RUN --mount=type=secret, and appear in no layer of
// the image (docker save), no progress event, and no error, even from a
// step that prints one and fails.
func TestBuildKitSecretsE2E(t *testing.T) {
	e2e.Engine(t)
	fileSecret, envSecret := "from-file-"+e2e.ProjectName(t), "from-env-"+e2e.ProjectName(t)
	f := newFixture(t, map[string]string{
		"compose.yaml": `services:
  app:
    build:
      context: ./app
      secrets: [token, envtok]
  leaky:
    build:
      context: ./leaky
      secrets: [token]
secrets:
  token:
    file: ./token.txt
  envtok:
    environment: STACK_BUILD_TOKEN
`,
		".env":             "STACK_BUILD_TOKEN=" + envSecret + "\n",
		"token.txt":        fileSecret,
		"leaky/Dockerfile": "FROM busybox:stable\nRUN --mount=type=secret,id=token sh -c 'echo the token is $(cat /run/secrets/token); exit 3'\n",
	})
	// BuildKit's cache does not key on secret values: the project name in
	// the step keeps another run's layer away.
	e2e.WriteFiles(t, f.dir, map[string]string{"app/Dockerfile": "FROM busybox:stable\n" +
		"RUN --mount=type=secret,id=token --mount=type=secret,id=envtok sh -c 'sha256sum < /run/secrets/token > /token.sum && sha256sum < /run/secrets/envtok > /envtok.sum' # " + f.name + "\n"})
	ev := &events{}
	_, ensureErr := f.ensure(progress.WithSink(t.Context(), ev), image.EnsureOptions{})
	var be *image.BuildError
	if !errors.As(ensureErr, &be) || be.Service != "leaky" {
		t.Fatalf("Ensure: %v, want leaky's BuildError", ensureErr)
	}
	if !strings.Contains(strings.Join(be.Output, "\n"), "the token is ****") {
		t.Errorf("leaky's output does not show the redacted line:\n%s", strings.Join(be.Output, "\n"))
	}
	sum := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) + "  -\n" }
	files := exportFiles(t, f.name+"-app")
	if files["/token.sum"] != sum(fileSecret) || files["/envtok.sum"] != sum(envSecret) {
		t.Errorf("the build did not read the secrets: %q %q, want %q %q", files["/token.sum"], files["/envtok.sum"], sum(fileSecret), sum(envSecret))
	}
	saved, err := exec.Command("docker", "save", f.name+"-app").Output()
	if err != nil || len(saved) < 1024 {
		t.Fatalf("docker save: %v (%d bytes)", err, len(saved))
	}
	var output strings.Builder
	output.WriteString(ensureErr.Error())
	for _, e := range ev.Events() {
		output.WriteString(e.Message + " " + err2s(e.Err) + "\n")
	}
	for _, s := range []string{fileSecret, envSecret} {
		if bytes.Contains(saved, []byte(s)) {
			t.Errorf("a layer of the image holds the secret %q", s)
		}
		if strings.Contains(output.String(), s) {
			t.Errorf("the output shows the secret %q", s)
		}
	}
}

func err2s(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Intent: two stages that do not depend on each other build at the same
// time: each step's started and done events show intervals that overlap.
func TestBuildKitParallelStagesE2E(t *testing.T) {
	e2e.Engine(t)
	f := newFixture(t, map[string]string{"compose.yaml": "services:\n  app:\n    build: ./app\n"})
	// The project name in the commands keeps other runs' cache away.
	e2e.WriteFiles(t, f.dir, map[string]string{"app/Dockerfile": "FROM busybox:stable AS a\nRUN sleep 3 && echo " + f.name + " > /a\n" +
		"FROM busybox:stable AS b\nRUN sleep 3 && echo " + f.name + " > /b\n" +
		"FROM scratch\nCOPY --from=a /a /a\nCOPY --from=b /b /b\n"})
	ev := &events{}
	if _, err := f.ensure(progress.WithSink(t.Context(), ev), image.EnsureOptions{}); err != nil {
		t.Fatal(err)
	}
	interval := func(stage string) (start, done time.Time) {
		for _, e := range ev.Events() {
			if e.Resource != "image:app" || e.Action != image.StepAction || !strings.Contains(e.Message, "["+stage+" 2/2] RUN sleep 3") {
				continue
			}
			switch {
			case e.Status == progress.Working && strings.HasSuffix(e.Message, ": started"):
				start = e.Time
			case e.Status == progress.Done && strings.Contains(e.Message, ": done in "):
				done = e.Time
			}
		}
		if start.IsZero() || done.IsZero() {
			t.Fatalf("no started and done events for stage %s's RUN: %+v", stage, ev.Events())
		}
		return start, done
	}
	aStart, aDone := interval("a")
	bStart, bDone := interval("b")
	if !aStart.Before(bDone) || !bStart.Before(aDone) {
		t.Errorf("stages ran one after the other: a %s..%s, b %s..%s", aStart.Format(time.StampMilli), aDone.Format(time.StampMilli), bStart.Format(time.StampMilli), bDone.Format(time.StampMilli))
	}
	if files := exportFiles(t, f.name+"-app"); files["/a"] == "" || files["/b"] == "" {
		t.Errorf("image lacks a stage's file: %v", files)
	}
}

// Intent: COPY --chmod sets the mode the Dockerfile says.
func TestBuildKitCopyChmodE2E(t *testing.T) {
	e2e.Engine(t)
	f := newFixture(t, map[string]string{
		"compose.yaml":   "services:\n  app:\n    build: ./app\n",
		"app/run.sh":     "#!/bin/sh\necho hi\n",
		"app/Dockerfile": "FROM busybox:stable\nCOPY --chmod=750 run.sh /run.sh\nRUN stat -c %a /run.sh > /mode\n",
	})
	if _, err := f.ensure(t.Context(), image.EnsureOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := exportFiles(t, f.name+"-app")["/mode"]; got != "750\n" {
		t.Errorf("COPY --chmod=750 gave mode %q", got)
	}
}

// Intent: a # syntax= directive names a frontend image; with no registry
// reachable the build fails before BuildKit runs, naming the directive, its
// file and line.
func TestBuildKitSyntaxDirectiveOfflineE2E(t *testing.T) {
	e2e.Engine(t)
	f := newFixture(t, map[string]string{
		"compose.yaml":   "services:\n  app:\n    build: ./app\n",
		"app/Dockerfile": "# syntax=docker/dockerfile:1.99-stack-test\nFROM busybox:stable\n",
	})
	_, err := f.ensure(t.Context(), image.EnsureOptions{})
	if err == nil {
		t.Fatal("Ensure succeeded without the frontend image")
	}
	for _, want := range []string{`service "app"`, filepath.Join(f.dir, "app", "Dockerfile") + ":1: # syntax=docker/dockerfile:1.99-stack-test", "frontend image", "remove the directive"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if n, _ := f.cc.take(); n != 0 {
		t.Errorf("%d build calls, want 0", n)
	}
}

// Intent: build.ssh forwards a key file as an agent: a RUN with
// --mount=type=ssh finds the agent socket, and the agent lists the key.
func TestBuildKitSSHE2E(t *testing.T) {
	e2e.Engine(t)
	f := newFixture(t, map[string]string{
		"compose.yaml": "services:\n  app:\n    build: ./app\n",
		"id_ed25519":   sshKey(t),
		"app/agent.go": `package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
)

// Asks the agent for its identities (SSH_AGENTC_REQUEST_IDENTITIES) and
// prints the answer's type and key count.
func main() {
	c, err := net.Dial("unix", os.Getenv("SSH_AUTH_SOCK"))
	if err != nil {
		panic(err)
	}
	c.Write([]byte{0, 0, 0, 1, 11})
	var n uint32
	binary.Read(c, binary.BigEndian, &n)
	b := make([]byte, n)
	io.ReadFull(c, b)
	fmt.Printf("type %d keys %d\n", b[0], binary.BigEndian.Uint32(b[1:5]))
}
`,
		"app/Dockerfile": "FROM golang:1.26\nCOPY agent.go /agent.go\nRUN --mount=type=ssh go run /agent.go > /identities\n",
	})
	s := f.p.Project.Services["app"]
	bc := *s.Build
	bc.SSH = types.SSHConfig{{ID: "default", Path: filepath.Join(f.dir, "id_ed25519")}} // see withSSH in fake_test.go
	s.Build = &bc
	f.p.Project.Services["app"] = s
	if _, err := f.ensure(t.Context(), image.EnsureOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := exportFiles(t, f.name+"-app")["/identities"]; got != "type 12 keys 1\n" {
		t.Errorf("the forwarded agent answered %q, want one identity", got)
	}
}

// Intent: cancelling the context (Ctrl-C) stops a running build: Ensure
// returns context.Canceled, and no image is tagged.
func TestBuildKitCancelE2E(t *testing.T) {
	e2e.Engine(t)
	f := newFixture(t, map[string]string{"compose.yaml": "services:\n  app:\n    build: ./app\n"})
	e2e.WriteFiles(t, f.dir, map[string]string{"app/Dockerfile": "FROM busybox:stable\nRUN sleep 120 && echo " + f.name + "\n"})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sink := progress.SinkFunc(func(e progress.Event) {
		if e.Action == image.StepAction && strings.Contains(e.Message, "RUN sleep 120") && strings.HasSuffix(e.Message, ": started") {
			cancel()
		}
	})
	_, err := f.ensure(progress.WithSink(ctx, sink), image.EnsureOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Ensure: %v, want context.Canceled", err)
	}
	if id := e2e.Docker(t, "images", "-q", f.name+"-app"); id != "" {
		t.Errorf("a cancelled build tagged %s", id)
	}
}

// Intent: a failing RUN is a BuildError naming the step, with the step's
// last lines of output.
func TestBuildKitFailingStepE2E(t *testing.T) {
	e2e.Engine(t)
	f := newFixture(t, map[string]string{
		"compose.yaml":   "services:\n  app:\n    build: ./app\n",
		"app/Dockerfile": "FROM busybox:stable\nRUN echo first line && echo last line && exit 3\n",
	})
	_, err := f.ensure(t.Context(), image.EnsureOptions{})
	var be *image.BuildError
	if !errors.As(err, &be) {
		t.Fatalf("Ensure: %v, want a BuildError", err)
	}
	if !strings.Contains(be.Message, "RUN echo first line") || !strings.Contains(be.Message, "exit code: 3") {
		t.Errorf("message %q does not name the step and its exit code", be.Message)
	}
	if len(be.Output) == 0 || be.Output[len(be.Output)-1] != "last line" {
		t.Errorf("output %q does not end with the step's last line", be.Output)
	}
}

// sshKey returns a new private key in OpenSSH's PEM form.
func sshKey(t testing.TB) string {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(key, "stack test key")
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(block))
}

// Intent: with build.pull, the engine's BuildKit pulls the FROM image
// itself, with the credentials of the Docker config, which the session
// hands it (the registry requires them).
func TestBuildKitPullsWithDockerConfigAuthE2E(t *testing.T) {
	e2e.Engine(t)
	reg := e2e.StartRegistry(t)
	cfg := e2e.DockerConfig(t, reg)
	t.Setenv("DOCKER_CONFIG", cfg)
	f := newFixture(t, map[string]string{})
	base := reg.Ref("mirror/base:" + f.name)
	for _, args := range [][]string{{"tag", "busybox:stable", base}, {"--config", cfg, "push", base}} {
		if out, err := exec.Command("docker", args...).CombinedOutput(); err != nil {
			t.Fatalf("docker %v: %v\n%s", args, err, out)
		}
	}
	t.Cleanup(func() { _, _ = exec.Command("docker", "rmi", base).CombinedOutput() })
	e2e.WriteFiles(t, f.dir, map[string]string{
		"compose.yaml":   "services:\n  app:\n    build:\n      context: ./app\n      pull: true\n",
		"app/Dockerfile": "FROM " + base + "\nRUN echo " + f.name + " > /built\n",
	})
	f.reload(t)
	reg.Reset()
	if _, err := f.ensure(t.Context(), image.EnsureOptions{}); err != nil {
		t.Fatal(err)
	}
	if s := reg.Stats(); s.Requests == 0 {
		t.Errorf("BuildKit made no authenticated request for %s: %+v", base, s)
	}
	if exportFiles(t, f.name+"-app")["/built"] != f.name+"\n" {
		t.Error("app was not built on the pulled base")
	}
}

// Intent: cache_to: type=inline writes the build cache into the image
// (engine 20.10's BuildKit exports cache no other way), and cache_from
// makes another build import it from the registry the image was pushed to.
func TestBuildKitInlineCacheE2E(t *testing.T) {
	e2e.Engine(t)
	reg := e2e.StartRegistry(t)
	cfg := e2e.DockerConfig(t, reg)
	t.Setenv("DOCKER_CONFIG", cfg)
	f := newFixture(t, map[string]string{})
	ref := reg.Ref("shop/" + f.name + "-seed:1")
	dockerfile := "FROM busybox:stable\nRUN echo " + f.name + " > /seed\n"
	e2e.WriteFiles(t, f.dir, map[string]string{
		"compose.yaml":    "services:\n  seed:\n    image: " + ref + "\n    build:\n      context: ./seed\n      cache_to: [type=inline]\n",
		"seed/Dockerfile": dockerfile,
	})
	f.reload(t)
	if _, err := f.ensure(t.Context(), image.EnsureOptions{}); err != nil {
		t.Fatal(err)
	}
	saved, err := exec.Command("docker", "save", ref).Output()
	if err != nil {
		t.Fatalf("docker save %s: %v", ref, err)
	}
	if !bytes.Contains(saved, []byte("moby.buildkit.cache.v0")) {
		t.Errorf("the image of %s carries no inline cache", ref)
	}
	if out, err := exec.Command("docker", "--config", cfg, "push", ref).CombinedOutput(); err != nil {
		t.Fatalf("docker push %s: %v\n%s", ref, err, out)
	}
	e2e.WriteFiles(t, f.dir, map[string]string{
		"compose.yaml":    "services:\n  user:\n    build:\n      context: ./user\n      cache_from: [" + ref + "]\n",
		"user/Dockerfile": dockerfile,
	})
	f.reload(t)
	ev := &events{}
	if _, err := f.ensure(progress.WithSink(t.Context(), ev), image.EnsureOptions{}); err != nil {
		t.Fatal(err)
	}
	if !ev.has("image:user", progress.Done, "importing cache manifest from "+ref) {
		t.Errorf("no cache import from %s: %+v", ref, ev.Events())
	}
}

// Intent: an engine whose API answers no BuildKit (POST /grpc refused, as
// an engine older than 19.03 or a locked-down proxy does) still builds,
// with its classic builder, and a warning says so and what it cannot do.
func TestBuildWithoutBuildKitE2E(t *testing.T) {
	e2e.Engine(t)
	sock := filepath.Join(t.TempDir(), "engine.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.Out.URL.Scheme, r.Out.URL.Host = "http", "docker" },
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", e2e.EngineSocket())
		}},
		FlushInterval: -1,
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/grpc" || r.URL.Path == "/session" {
			http.NotFound(w, r)
			return
		}
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	f := newFixture(t, map[string]string{
		"compose.yaml":   "services:\n  app:\n    build: ./app\n",
		"app/Dockerfile": "FROM busybox:stable\nRUN echo classic > /built\n",
	})
	c, err := client.NewClientWithOpts(client.WithHost("unix://"+sock), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if f.b, err = image.New(image.WithClient(c)); err != nil {
		t.Fatal(err)
	}
	ev := &events{}
	if _, err := f.ensure(progress.WithSink(t.Context(), ev), image.EnsureOptions{}); err != nil {
		t.Fatal(err)
	}
	if !ev.has("builder", progress.Warning, "classic builder (the engine's BuildKit does not answer: unable to upgrade to h2c, received 404)") || !ev.has("builder", progress.Warning, "RUN --mount") {
		t.Errorf("no warning about the classic builder: %+v", ev.Events())
	}
	if exportFiles(t, f.name+"-app")["/built"] != "classic\n" {
		t.Error("app was not built")
	}
}

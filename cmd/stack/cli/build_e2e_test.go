package cli_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// engineProxy is an HTTP proxy on a unix socket in front of the Docker
// engine that counts the build requests crossing it: pointing DOCKER_HOST at
// it proves how many builds the stack binary asked for.
type engineProxy struct {
	host   string // DOCKER_HOST value
	builds atomic.Int32
}

var buildPath = regexp.MustCompile(`^(/v[0-9.]+)?/(build|session)$`)

func startEngineProxy(t testing.TB) *engineProxy {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "engine.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	p := &engineProxy{host: "unix://" + sock}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme, r.Out.URL.Host = "http", "docker"
		},
		Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", e2e.EngineSocket())
		}},
		FlushInterval: -1,
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && buildPath.MatchString(r.URL.Path) {
			p.builds.Add(1)
		}
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return p
}

func (p *engineProxy) take() int { return int(p.builds.Swap(0)) }

// newProject returns a directory for a compose project and a unique project
// name; when the test ends the images tagged <project>-... (or .../<project>-...)
// and those whose IDs the test added to ids are removed.
func newProject(t *testing.T) (dir, project string, ids *[]string) {
	t.Helper()
	dir, ids = t.TempDir(), new([]string)
	// Registered before e2e.ProjectName's cleanup, so it runs after the
	// project's containers are gone and the images are no longer in use.
	t.Cleanup(func() {
		for _, ref := range strings.Fields(e2e.Docker(t, "images", "--format", "{{.Repository}}:{{.Tag}}")) {
			if strings.HasPrefix(ref, project) || strings.Contains(ref, "/"+project) {
				_, _ = exec.Command("docker", "rmi", ref).CombinedOutput()
			}
		}
		for i := len(*ids) - 1; i >= 0; i-- {
			_, _ = exec.Command("docker", "rmi", (*ids)[i]).CombinedOutput()
		}
	})
	project = e2e.ProjectName(t)
	return dir, project, ids
}

func imageID(t *testing.T, ref string) string {
	t.Helper()
	return e2e.Docker(t, "image", "inspect", "--format", "{{.Id}}", ref)
}

// Intent: `stack build` run twice with nothing changed asks the engine for
// no build the second time (counted at an engine proxy) and keeps the image
// IDs; changing a context file rebuilds only that service.
//
//	services: web (build ./web), worker (build ./worker)
//	stack build            -> 2 build requests
//	stack build            -> 0 build requests, same IDs, "up to date"
//	edit web/index.html; stack build -> 1 build request, web's ID changes, worker's not
func TestBuildSkipsUnchangedE2E(t *testing.T) {
	e2e.Engine(t)
	dir, project, ids := newProject(t)
	e2e.WriteFiles(t, dir, map[string]string{
		"compose.yaml":      "name: " + project + "\nservices:\n  web:\n    build: ./web\n  worker:\n    build: ./worker\n",
		"web/Dockerfile":    "FROM busybox:stable\nCOPY index.html /www/\n",
		"web/index.html":    "<h1>v1</h1>",
		"worker/Dockerfile": "FROM busybox:stable\nCOPY job.sh /job.sh\n",
		"worker/job.sh":     "echo work",
	})
	proxy := startEngineProxy(t)
	cmd := e2e.Cmd{Dir: dir, Env: []string{"DOCKER_HOST=" + proxy.host}}

	cmd.MustRun(t, "build")
	web, worker := imageID(t, project+"-web"), imageID(t, project+"-worker")
	*ids = append(*ids, web, worker)
	if n := proxy.take(); n != 2 {
		t.Fatalf("first build: %d build requests, want 2", n)
	}

	r := cmd.MustRun(t, "build")
	if n := proxy.take(); n != 0 {
		t.Fatalf("second build with nothing changed: %d build requests, want 0", n)
	}
	if imageID(t, project+"-web") != web || imageID(t, project+"-worker") != worker {
		t.Fatal("image IDs changed though nothing did")
	}
	if strings.Count(r.Stderr, "up to date") != 2 {
		t.Errorf("second build should report both services up to date:\n%s", r.Stderr)
	}

	e2e.WriteFiles(t, dir, map[string]string{"web/index.html": "<h1>v2</h1>"})
	cmd.MustRun(t, "build")
	*ids = append(*ids, imageID(t, project+"-web"))
	if n := proxy.take(); n != 1 {
		t.Fatalf("after editing web/index.html: %d build requests, want 1", n)
	}
	if imageID(t, project+"-web") == web || imageID(t, project+"-worker") != worker {
		t.Fatal("after editing web/index.html: want web rebuilt and worker kept")
	}

	cmd.MustRun(t, "build", "--force", "worker")
	if n := proxy.take(); n != 1 {
		t.Fatalf("build --force worker: %d build requests, want 1", n)
	}
}

// Intent: a broken Dockerfile fails `stack build` with a non-zero exit that
// shows the failing step and its output, and the independent service's
// build still completes.
//
//	services: good (builds), bad (RUN fails)
//	stack build -> exit 1; stderr names bad, the step and its output; good's image exists
func TestBuildFailureShowsStepE2E(t *testing.T) {
	e2e.Engine(t)
	dir, project, ids := newProject(t)
	e2e.WriteFiles(t, dir, map[string]string{
		"compose.yaml":    "name: " + project + "\nservices:\n  good:\n    build: ./good\n  bad:\n    build: ./bad\n",
		"good/Dockerfile": "FROM busybox:stable\nRUN sleep 1 && echo built > /done\n",
		"bad/Dockerfile":  "FROM busybox:stable\nRUN echo compiling\nRUN echo 'error: missing semicolon at line 3' && exit 3\nRUN echo never\n",
	})
	r := e2e.Cmd{Dir: dir}.Run(t, "build")
	if r.Code == 0 {
		t.Fatal("stack build with a broken Dockerfile exited 0")
	}
	for _, want := range []string{`building service "bad"`, "exit 3", "exit code: 3", "error: missing semicolon at line 3"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	stackErr := r.Stderr[strings.LastIndex(r.Stderr, "stack: "):]
	if !strings.Contains(stackErr, "error: missing semicolon") || strings.Contains(stackErr, "compiling") {
		t.Errorf("the error should show the failing step's output and only it:\n%s", stackErr)
	}
	good := imageID(t, project+"-good")
	if good == "" {
		t.Fatal("the independent service's image was not built")
	}
	*ids = append(*ids, good)
}

// Intent: `stack push` pushes with the credentials of a Docker config file,
// prints NAME@DIGEST, and the digest is the one the registry stores; wrong
// credentials fail clearly and never print the secret.
//
//	registry on 127.0.0.1 with basic auth; services api, web: image <reg>/shop/...:1.0, build; db: busybox:stable
//	stack build; stack push (DOCKER_CONFIG=good) -> one NAME@DIGEST line each for api and web, as the registry has them
//	stack push (DOCKER_CONFIG=wrong password)    -> exit 1, "registry refused the credentials", no password
func TestPushWithDockerConfigE2E(t *testing.T) {
	e2e.Engine(t)
	reg := e2e.StartRegistry(t)
	good := e2e.DockerConfig(t, reg)
	dir, project, ids := newProject(t)
	ref := reg.Ref("shop/" + project + "-api:1.0")
	webRef := reg.Ref("shop/" + project + "-web:1.0")
	e2e.WriteFiles(t, dir, map[string]string{
		"compose.yaml": "name: " + project + "\nservices:\n  api:\n    image: " + ref + "\n    build: ./api\n" +
			"  web:\n    image: " + webRef + "\n    build: ./web\n  db:\n    image: busybox:stable\n",
		"api/Dockerfile": "FROM busybox:stable\nCOPY version /version\n",
		"api/version":    project,
		"web/Dockerfile": "FROM busybox:stable\nCOPY page /www/page\n",
		"web/page":       project,
	})
	e2e.Cmd{Dir: dir}.MustRun(t, "build")
	*ids = append(*ids, imageID(t, ref), imageID(t, webRef))

	// Both pushed (in parallel), printed in name order, each with the
	// digest the registry stores.
	r := e2e.Cmd{Dir: dir, Env: []string{"DOCKER_CONFIG=" + good}}.MustRun(t, "push")
	want := ref + "@" + registryDigest(t, reg, "shop/"+project+"-api", "1.0") + "\n" +
		webRef + "@" + registryDigest(t, reg, "shop/"+project+"-web", "1.0") + "\n"
	if r.Stdout != want {
		t.Fatalf("stack push printed\n%s\nwant\n%s", r.Stdout, want)
	}

	wrongPassword := "not-the-password-" + project
	wrong := t.TempDir()
	e2e.WriteFiles(t, wrong, map[string]string{"config.json": `{"auths":{"` + reg.Host + `":{"username":"stack","password":"` + wrongPassword + `"}}}`})
	r = e2e.Cmd{Dir: dir, Env: []string{"DOCKER_CONFIG=" + wrong}}.Run(t, "push", "api")
	if r.Code == 0 {
		t.Fatal("push with a wrong password exited 0")
	}
	if !strings.Contains(r.Stderr, "registry refused the credentials") || !strings.Contains(r.Stderr, "docker login "+reg.Host) {
		t.Errorf("push with a wrong password: unclear error:\n%s", r.Stderr)
	}
	for _, secret := range []string{wrongPassword, e2e.RegistryPassword} {
		if strings.Contains(r.Stdout+r.Stderr, secret) {
			t.Errorf("output shows a password")
		}
	}

	r = e2e.Cmd{Dir: dir, Env: []string{"DOCKER_CONFIG=" + good}}.Run(t, "push", "db")
	if r.Code == 0 || !strings.Contains(r.Stderr, "names no registry to push to") {
		t.Errorf("push of a service whose image names no registry: want a clear error, got exit %d:\n%s", r.Code, r.Stderr)
	}
}

// registryDigest asks the registry for the manifest digest of repo:tag.
func registryDigest(t *testing.T, reg *e2e.Registry, repo, tag string) string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodHead, "http://"+reg.Host+"/v2/"+repo+"/manifests/"+tag, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(e2e.RegistryUser, e2e.RegistryPassword)
	req.Header.Set("Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("HEAD %s:%s: %s", repo, tag, resp.Status)
	}
	d := resp.Header.Get("Docker-Content-Digest")
	if d == "" {
		t.Fatal(errors.New("registry sent no Docker-Content-Digest"))
	}
	return d
}

// Intent: credentials kept by a Docker credential helper (credHelpers in the
// config, a docker-credential-<name> program on PATH) are used for the push.
//
//	credHelpers: {<reg>: stacke2e}; docker-credential-stacke2e prints the registry's user and password
//	stack push -> exit 0, NAME@DIGEST as the registry has it
func TestPushWithCredentialHelperE2E(t *testing.T) {
	e2e.Engine(t)
	reg := e2e.StartRegistry(t)
	project := e2e.ProjectName(t)
	ref := reg.Ref("helper/" + project + ":1")
	if out, err := exec.Command("docker", "tag", "busybox:stable", ref).CombinedOutput(); err != nil {
		t.Fatalf("docker tag: %v\n%s", err, out)
	}
	t.Cleanup(func() { _, _ = exec.Command("docker", "rmi", ref).CombinedOutput() })
	bin, cfg, dir := t.TempDir(), t.TempDir(), t.TempDir()
	helper := "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\n" +
		`printf '{"ServerURL":"%s","Username":"` + e2e.RegistryUser + `","Secret":"` + e2e.RegistryPassword + `"}' "$server"` + "\n"
	e2e.WriteFiles(t, bin, map[string]string{"docker-credential-stacke2e": helper})
	if err := os.Chmod(filepath.Join(bin, "docker-credential-stacke2e"), 0o755); err != nil {
		t.Fatal(err)
	}
	e2e.WriteFiles(t, cfg, map[string]string{"config.json": `{"credHelpers":{"` + reg.Host + `":"stacke2e"}}`})
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": "name: " + project + "\nservices:\n  box:\n    image: " + ref + "\n"})

	r := e2e.Cmd{Dir: dir, Env: []string{"DOCKER_CONFIG=" + cfg, "PATH=" + bin + ":" + os.Getenv("PATH")}}.MustRun(t, "push")
	want := ref + "@" + registryDigest(t, reg, "helper/"+project, "1")
	if got := strings.TrimSpace(r.Stdout); got != want {
		t.Fatalf("stack push printed %q, want %q", got, want)
	}
}

// containerImage is the image ID of the project's container of service.
func containerImage(t *testing.T, project, service string) string {
	t.Helper()
	id := e2e.Docker(t, "ps", "-q", "--filter", "label=io.stack.project="+project, "--filter", "label=io.stack.service="+service)
	if id == "" {
		t.Fatalf("no running container for service %s", service)
	}
	return e2e.Docker(t, "inspect", "--format", "{{.Image}}", id)
}

// Intent: `stack up` builds through the same skip-unchanged step: a second up
// with nothing changed asks the engine for no build (counted at an engine
// proxy) and leaves the containers on the same images; editing one
// service's context rebuilds that service only; --no-build never builds;
// --build always does.
//
//	services: web, worker (build, FROM busybox:stable, sleep)
//	stack up                          -> 2 build requests, both running
//	stack up                          -> 0 build requests, same images
//	edit web/page; stack up --no-build -> 0 build requests
//	stack up                          -> 1 build request, web on a new image, worker's unchanged
//	stack up --build                  -> 2 build requests
func TestUpSkipsUnchangedBuildsE2E(t *testing.T) {
	e2e.Engine(t)
	dir, project, ids := newProject(t)
	dockerfile := "FROM busybox:stable\nCOPY . /srv/\nCMD [\"sleep\", \"3600\"]\n"
	e2e.WriteFiles(t, dir, map[string]string{
		"compose.yaml":      "name: " + project + "\nservices:\n  web:\n    build: ./web\n    init: true\n  worker:\n    build: ./worker\n    init: true\n",
		"web/Dockerfile":    dockerfile,
		"web/page":          "v1",
		"worker/Dockerfile": dockerfile,
		"worker/job":        "j1",
	})
	proxy := startEngineProxy(t)
	cmd := e2e.Cmd{Dir: dir, Env: []string{"DOCKER_HOST=" + proxy.host}}
	up := func(want int, args ...string) {
		t.Helper()
		cmd.MustRun(t, append([]string{"up"}, args...)...)
		if n := proxy.take(); n != want {
			t.Fatalf("stack up %v: %d build requests, want %d", args, n, want)
		}
	}

	up(2)
	web, worker := containerImage(t, project, "web"), containerImage(t, project, "worker")
	*ids = append(*ids, web, worker)
	up(0)
	if containerImage(t, project, "web") != web || containerImage(t, project, "worker") != worker {
		t.Fatal("a second up with nothing changed moved a container to another image")
	}

	e2e.WriteFiles(t, dir, map[string]string{"web/page": "v2"})
	up(0, "--no-build")
	up(1)
	web2 := containerImage(t, project, "web")
	*ids = append(*ids, web2)
	if web2 == web || containerImage(t, project, "worker") != worker {
		t.Fatalf("after editing web/page: web %s -> %s, worker %s -> %s; want only web on a new image", web, web2, worker, containerImage(t, project, "worker"))
	}
	up(2, "--build")
}

// Intent: a transient registry failure (503 on the manifest upload, which
// the engine does not retry itself) is retried by stack push with backoff,
// and the push then succeeds with the registry's digest.
//
//	registry behind a proxy that answers the first manifest PUT with 503
//	stack push -> exit 0, "attempt 1 of 3 failed, retrying", NAME@DIGEST as the registry has it
func TestPushRetriesTransientFailureE2E(t *testing.T) {
	e2e.Engine(t)
	reg := e2e.StartRegistry(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The manifest upload fails until the engine starts a push again (it
	// asks for a blob first): an engine that retries the upload itself
	// (Docker 29) fails its whole push, and only stack's retry succeeds.
	var failed atomic.Bool
	var failing atomic.Bool
	failing.Store(true)
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: reg.Host})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead && strings.Contains(r.URL.Path, "/blobs/") && failed.Load() {
			failing.Store(false)
		}
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") && r.Header.Get("Authorization") != "" && failing.Load() {
			failed.Store(true)
			http.Error(w, `{"errors":[{"code":"UNAVAILABLE","message":"service unavailable"}]}`, http.StatusServiceUnavailable)
			return
		}
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	host := ln.Addr().String()

	_, project, _ := newProject(t)
	ref := host + "/flaky/" + project + ":1"
	if out, err := exec.Command("docker", "tag", "busybox:stable", ref).CombinedOutput(); err != nil {
		t.Fatalf("docker tag: %v\n%s", err, out)
	}
	t.Cleanup(func() { _, _ = exec.Command("docker", "rmi", ref).CombinedOutput() })
	cfg, dir := t.TempDir(), t.TempDir()
	e2e.WriteFiles(t, cfg, map[string]string{"config.json": `{"auths":{"` + host + `":{"username":"` + e2e.RegistryUser + `","password":"` + e2e.RegistryPassword + `"}}}`})
	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": "name: " + project + "\nservices:\n  box:\n    image: " + ref + "\n"})

	r := e2e.Cmd{Dir: dir, Env: []string{"DOCKER_CONFIG=" + cfg}}.MustRun(t, "push")
	if !failed.Load() || !strings.Contains(r.Stderr, "attempt 1 of 3 failed, retrying") {
		t.Fatalf("no retry after the injected 503 (injected: %v):\n%s", failed.Load(), r.Stderr)
	}
	want := ref + "@" + registryDigest(t, reg, "flaky/"+project, "1")
	if got := strings.TrimSpace(r.Stdout); got != want {
		t.Fatalf("stack push printed %q, want %q", got, want)
	}
}

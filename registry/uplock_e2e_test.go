package registry_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
	"github.com/stack-deploy/stack/registry"
)

// Intent: prod runs exactly the digests that passed staging, and a lock
// that does not fit the manifest is refused before anything changes.
//
// Model: as TestReleaseAndPromote (web built FROM busybox, cache on
// busybox:stable; staging and prod registries on loopback).
//
// Steps:
//
//	release --env staging; promote staging prod
//	up --env prod --lock PROD_LOCK     -> every container runs the image the
//	                                      lock pins (image inspect RepoDigests)
//	up --env prod --lock STAGING_LOCK  -> refused: the lock is for staging
//	add a service to compose.yaml
//	up --env prod --lock PROD_LOCK     -> refused, naming the new service and
//	                                      the changed file; containers untouched
func TestUpWithLock(t *testing.T) {
	e2e.Engine(t)
	staging, prod := e2e.StartRegistry(t), e2e.StartRegistry(t)
	staging.RemoveImagesAtCleanup(t)
	prod.RemoveImagesAtCleanup(t)
	project := e2e.ProjectName(t)
	dir := releaseProject(t, project, staging, prod)
	e2e.RemoveAtCleanup(t, project+"-staging", project+"-prod")
	cmd := e2e.Cmd{Dir: dir, Env: []string{"DOCKER_CONFIG=" + e2e.DockerConfig(t, staging, prod)}}

	stagingLock := strings.TrimSpace(cmd.MustRun(t, "release", "--env", "staging", "--tag", "v1").Stdout)
	prodLock := strings.TrimSpace(cmd.MustRun(t, "promote", "staging", "prod").Stdout)
	if filepath.Dir(prodLock) != filepath.Join(dir, ".stack", "releases", "prod") {
		t.Fatalf("promote printed %q, want a lock in .stack/releases/prod", prodLock)
	}
	locked := lockAt(t, prodLock)

	cmd.MustRun(t, "up", "--env", "prod", "--lock", prodLock)
	running := containers(t, project+"-prod")
	if len(running) != 2 {
		t.Fatalf("up --lock: %d containers running, want 2 (web, cache)", len(running))
	}
	for svc, si := range locked.Services {
		id := e2e.Docker(t, "ps", "-q", "--filter", "label=io.stack.project="+project+"-prod", "--filter", "label=io.stack.service="+svc)
		img := e2e.Docker(t, "inspect", "--format", "{{.Image}}", id)
		digests := e2e.Docker(t, "image", "inspect", "--format", "{{range .RepoDigests}}{{.}} {{end}}", img)
		if !slices.Contains(strings.Fields(digests), si.Image) {
			t.Errorf("service %s runs image %s with repo digests [%s], want %s", svc, img, digests, si.Image)
		}
	}

	r := cmd.MustRun(t, "releases", "--env", "prod")
	if lines := strings.Split(strings.TrimSpace(r.Stdout), "\n"); len(lines) != 2 || !strings.Contains(lines[1], "running,deployed") {
		t.Errorf("releases --env prod after up --lock:\n%s\nwant v1 running,deployed", r.Stdout)
	}

	r = cmd.Run(t, "up", "--env", "prod", "--lock", stagingLock)
	if r.Code == 0 || !strings.Contains(r.Stderr, `the lock is for "staging"`) || !strings.Contains(r.Stderr, "stack promote staging prod") {
		t.Errorf("up --env prod with staging's lock: exit %d\n%s\nwant a refusal that says to promote first", r.Code, r.Stderr)
	}

	e2e.WriteFiles(t, dir, map[string]string{"compose.yaml": strings.Replace(
		readFile(t, filepath.Join(dir, "compose.yaml")), "  cache:\n", "  extra:\n    image: busybox:stable\n    command: [\"sleep\", \"3600\"]\n  cache:\n", 1)})
	r = cmd.Run(t, "up", "--env", "prod", "--lock", prodLock)
	if r.Code == 0 {
		t.Fatal("up with a lock that does not cover the manifest succeeded")
	}
	for _, want := range []string{"does not match the manifest", "service extra: in the manifest, not in the lock", "compose.yaml: changed since the release"} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("refusal does not say %q:\n%s", want, r.Stderr)
		}
	}
	if after := containers(t, project+"-prod"); !slices.Equal(after, running) {
		t.Errorf("a refused lock changed the containers: before %v, after %v", running, after)
	}
	if _, err := registry.ReadLock(prodLock); err != nil {
		t.Errorf("the prod lock is no longer readable: %v", err)
	}
}

// containers lists the project's container IDs, sorted.
func containers(t *testing.T, project string) []string {
	t.Helper()
	ids := strings.Fields(e2e.Docker(t, "ps", "-aq", "--no-trunc", "--filter", "label=io.stack.project="+project))
	slices.Sort(ids)
	return ids
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

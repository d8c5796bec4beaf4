package examples_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestRelease: the release walkthrough, on a copy of examples/release (it
// writes lock files under .stack/).
//
// Model: one app, hello, answering its version (baked in from VERSION) and
// its environment; x-stack environments staging and prod, each with its own
// registry (two registry:2 containers from registries.yaml) and env file.
//
//	stack -f registries.yaml up                   -> two registries
//	stack release --env staging --tag v1          -> a lock pinning the staging digest
//	stack up --env staging --lock current         -> {"environment":"staging","version":"1.0.0"}
//	stack promote staging prod                    -> prod's lock, same digest in prod's registry
//	stack up --env prod --lock current            -> prod runs exactly that digest
//	VERSION=1.1.0; release v2; promote; up prod   -> 1.1.0 in prod
//	stack verify --env staging|prod               -> each check PASS, recorded with the release
//	v2: promote before staging verified it        -> exit 1
//	stack rollback --env prod                     -> back to v1 (1.0.0); releases says v1 runs
func TestRelease(t *testing.T) {
	t.Parallel()
	dir := copyExample(t, "release")
	stagingPort, prodPort, stagingHello, prodHello := freePort(t), freePort(t), freePort(t), freePort(t)
	// registered before example's cleanups so that it runs after them, once
	// the containers using the images are gone.
	t.Cleanup(func() { removeImagesOf(t, "127.0.0.1:"+stagingPort+"/", "127.0.0.1:"+prodPort+"/") })
	stack, project := example(t, "release",
		"STAGING_REGISTRY_PORT="+stagingPort, "PROD_REGISTRY_PORT="+prodPort,
		"STAGING_REGISTRY=127.0.0.1:"+stagingPort, "PROD_REGISTRY=127.0.0.1:"+prodPort,
		"STAGING_HELLO_PORT="+stagingHello, "PROD_HELLO_PORT="+prodHello)
	stack.Dir = dir
	e2e.RemoveAtCleanup(t, project+"-staging", project+"-prod")
	registries := e2e.ProjectName(t)
	stack.MustRun(t, "-f", "registries.yaml", "-p", registries, "up")

	lockPath := func(r e2e.Result) string {
		lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
		return lines[len(lines)-1]
	}
	hello := func(wantEnv, wantVersion string) {
		t.Helper()
		var got struct{ Environment, Version string }
		port := map[string]string{"staging": stagingHello, "prod": prodHello}[wantEnv]
		callJSON(t, "GET", endpoint(port, "/"), "", http.StatusOK, &got)
		if got.Environment != wantEnv || got.Version != wantVersion {
			t.Errorf("hello answers %+v, want environment %s, version %s", got, wantEnv, wantVersion)
		}
	}

	stagingV1 := readLock(t, lockPath(stack.MustRun(t, "release", "--env", "staging", "--tag", "v1")))
	digest := stagingV1.digest(t, "127.0.0.1:"+stagingPort+"/hello/hello@")
	stack.MustRun(t, "up", "--env", "staging", "--lock", "current")
	hello("staging", "1.0.0")
	verified := func(env, tag string) {
		t.Helper()
		r := stack.MustRun(t, "verify", "--env", env)
		mustContain(t, "stack verify --env "+env, r.Stdout, "PASS  http http://127.0.0.1:", "release "+tag+" verified on "+env)
	}
	verified("staging", "v1")

	prodV1Path := lockPath(stack.MustRun(t, "promote", "staging", "prod"))
	if got := readLock(t, prodV1Path).digest(t, "127.0.0.1:"+prodPort+"/hello/hello@"); got != digest {
		t.Fatalf("prod's lock pins %s, staging's %s: promote must keep the digest", got, digest)
	}
	stack.MustRun(t, "up", "--env", "prod", "--lock", "current")
	hello("prod", "1.0.0")
	verified("prod", "v1")
	hello("staging", "1.0.0") // each environment its own project: prod left staging alone
	running := containers(t, project+"-prod")["hello"]
	repoDigests := e2e.Docker(t, "image", "inspect", "--format", "{{json .RepoDigests}}", running.Image)
	mustContain(t, "the prod container's image", repoDigests, "127.0.0.1:"+prodPort+"/hello/hello@"+digest)

	if err := os.WriteFile(filepath.Join(dir, "VERSION"), []byte("1.1.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stagingV2 := readLock(t, lockPath(stack.MustRun(t, "release", "--env", "staging", "--tag", "v2")))
	if stagingV2.digest(t, "127.0.0.1:"+stagingPort+"/hello/hello@") == digest {
		t.Fatal("release v2 with a new VERSION pinned v1's digest")
	}
	r := stack.Run(t, "promote", "staging", "prod")
	if r.Code != 1 || !strings.Contains(r.Stderr, "release v2 is not verified on staging") {
		t.Fatalf("promote of v2 before staging verified it: exit %d, want 1 saying so\n%s", r.Code, r.Stderr)
	}
	stack.MustRun(t, "up", "--env", "staging", "--lock", "current")
	verified("staging", "v2")
	stack.MustRun(t, "promote", "staging", "prod")
	stack.MustRun(t, "up", "--env", "prod", "--lock", "current")
	hello("prod", "1.1.0")
	verified("prod", "v2")

	r = stack.MustRun(t, "rollback", "--env", "prod")
	mustContain(t, "stack rollback --env prod", r.Stdout, "rolling prod back from v2 to v1", "service:hello")
	hello("prod", "1.0.0")
	if l := readLock(t, prodV1Path); l.digest(t, "127.0.0.1:"+prodPort+"/hello/hello@") != digest {
		t.Errorf("v1's prod lock file changed")
	}
	hello("staging", "1.1.0") // staging keeps v2, which it verified
	releases := stack.MustRun(t, "releases", "--env", "prod").Stdout
	for _, line := range strings.Split(releases, "\n") {
		if strings.Contains(line, "v1 ") && !strings.Contains(line, "running") {
			t.Errorf("after rolling back, releases does not say v1 is running:\n%s", releases)
		}
	}
}

// lock is the part of a release lock file the test reads.
type lock struct {
	Services map[string]struct{ Image string }
}

func readLock(t *testing.T, path string) lock {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading the lock stack printed: %v", err)
	}
	var l lock
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	return l
}

// digest is the digest the lock pins hello to, checking its repository.
func (l lock) digest(t *testing.T, repoAt string) string {
	t.Helper()
	ref := l.Services["hello"].Image
	if !strings.HasPrefix(ref, repoAt+"sha256:") {
		t.Fatalf("lock pins hello to %q, want %s<digest>", ref, repoAt)
	}
	return strings.TrimPrefix(ref, repoAt)
}

// copyExample copies examples/<name> (without .stack/) into a temporary
// directory named like the example, for a test that writes into it.
func copyExample(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join(e2e.Root(), "examples", name)
	dst := filepath.Join(t.TempDir(), name)
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			if d.Name() == ".stack" {
				return filepath.SkipDir
			}
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatalf("copying examples/%s: %v", name, err)
	}
	return dst
}

// removeImagesOf removes the images with a repository under one of the
// prefixes: what the test built, pushed and pulled through its registries.
func removeImagesOf(t *testing.T, prefixes ...string) {
	t.Helper()
	var ids []string
	for _, line := range strings.Split(e2e.Docker(t, "images", "--format", "{{.Repository}} {{.ID}}"), "\n") {
		repo, id, _ := strings.Cut(line, " ")
		for _, p := range prefixes {
			if strings.HasPrefix(repo, p) && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) > 0 {
		e2e.Docker(t, append([]string{"rmi", "-f"}, ids...)...)
	}
}

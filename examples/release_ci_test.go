package examples_test

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
	"github.com/stack-deploy/stack/registry"
)

// TestReleaseCIJob runs examples/release/ci.sh as a CI system would: no
// terminal, CI=true, the stack binary given by STACK.
//
// Model: examples/release (hello; staging and prod environments, each with
// its registry, here on free ports).
//
//	stack -f registries.yaml up    -> two registries
//	ci.sh                          -> exit 0: release, deploy staging (its migration, then verified),
//	                                  promote, deploy prod (the same);
//	                                  $EVENTS holds only JSON events, promote among them;
//	                                  prod runs the digest staging's lock pinned
func TestReleaseCIJob(t *testing.T) {
	t.Parallel()
	dir := copyExample(t, "release")
	stagingPort, prodPort, stagingHello, prodHello := freePort(t), freePort(t), freePort(t), freePort(t)
	t.Cleanup(func() { removeImagesOf(t, "127.0.0.1:"+stagingPort+"/", "127.0.0.1:"+prodPort+"/") })
	env := []string{
		"STAGING_REGISTRY_PORT=" + stagingPort, "PROD_REGISTRY_PORT=" + prodPort,
		"STAGING_REGISTRY=127.0.0.1:" + stagingPort, "PROD_REGISTRY=127.0.0.1:" + prodPort,
		"STAGING_HELLO_PORT=" + stagingHello, "PROD_HELLO_PORT=" + prodHello,
	}
	stack, project := example(t, "release", env...)
	stack.Dir = dir
	e2e.RemoveAtCleanup(t, project+"-staging", project+"-prod")
	stack.MustRun(t, "-f", "registries.yaml", "-p", e2e.ProjectName(t), "up")

	events := filepath.Join(t.TempDir(), "events.jsonl")
	job := exec.Command("bash", filepath.Join(dir, "ci.sh"))
	job.Env = append(append(os.Environ(), stack.Env...),
		"CI=true", "STACK="+e2e.Binary(t), "RELEASE_TAG=ci1", "EVENTS="+events)
	out, err := job.CombinedOutput()
	t.Logf("ci.sh:\n%s", out)
	if err != nil {
		t.Fatalf("ci.sh: %v", err)
	}
	mustContain(t, "ci.sh's output", string(out),
		"hello: -migrate | migrating staging to 1.0.0", "hello: -migrate | migrating prod to 1.0.0", "ci1 ", "running,verified",
		".stack/releases/staging/", ".stack/releases/prod/") // the lock paths, on stdout whatever --progress says

	f, err := os.Open(events)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		var e struct{ Resource, Action, Status, Time string }
		if err := json.Unmarshal(lines.Bytes(), &e); err != nil || e.Resource == "" || e.Status == "" || e.Time == "" {
			t.Fatalf("event line %q is not a JSON event (%v)", lines.Text(), err)
		}
		seen[e.Action+" "+e.Status] = true
	}
	for _, want := range []string{"release done", "promote done", "create done", "check done", "verify done"} {
		if !seen[want] {
			t.Errorf("no %q event in %s: saw %v", want, events, seen)
		}
	}

	prodLock, err := registry.Store{Dir: registry.DefaultStoreDir(dir)}.Current("prod")
	if err != nil {
		t.Fatal(err)
	}
	l := readLock(t, prodLock)
	digest := l.digest(t, "127.0.0.1:"+prodPort+"/hello/hello@")
	running := containers(t, project+"-prod")["hello"]
	mustContain(t, "the prod container's image", e2e.Docker(t, "image", "inspect", "--format", "{{json .RepoDigests}}", running.Image),
		"127.0.0.1:"+prodPort+"/hello/hello@"+digest)
}

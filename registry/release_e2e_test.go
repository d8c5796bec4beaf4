package registry_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
	"github.com/stack-deploy/stack/registry"
)

// releaseProject writes a project with one built service and one pulled
// one, and staging and prod environments on the two registries.
func releaseProject(t *testing.T, project string, staging, prod *e2e.Registry) string {
	t.Helper()
	dir := t.TempDir()
	e2e.WriteFiles(t, dir, map[string]string{
		"compose.yaml": `name: ` + project + `
services:
  web:
    build: ./web
    depends_on: [cache]
  cache:
    image: busybox:stable
    command: ["sleep", "3600"]
x-stack:
  environments:
    staging:
      registry: ` + staging.Host + `/shop
    prod:
      registry: ` + prod.Host + `/shop
`,
		"web/Dockerfile": "FROM busybox:stable\nCOPY version /version\nCMD [\"sleep\", \"3600\"]\n",
		"web/version":    "1\n",
	})
	return dir
}

func lockAt(t *testing.T, path string) *registry.Lock {
	t.Helper()
	l, err := registry.ReadLock(strings.TrimSpace(path))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Intent: a CI job releases the stack to staging and promotes the same
// digests to prod, registry to registry.
//
// Model: web (built FROM busybox) depends on cache (busybox:stable, pulled);
// staging and prod are two registries on loopback behind basic auth, the
// credentials in a Docker config.
//
// Steps:
//
//	release --env staging --tag v1 -> lock in .stack/releases/staging, every
//	                                   service at a digest the registry serves
//	releases --env staging          -> v1, current
//	promote staging prod            -> prod lock, same digests, blobs uploaded to prod
//	promote staging prod (again)    -> no blob uploaded, none read from staging
//	release v2, prod stopped mid-promote -> exit 1 naming image and registry,
//	                                   prod's lock files and current unchanged
func TestReleaseAndPromote(t *testing.T) {
	e2e.Engine(t)
	staging, prod := e2e.StartRegistry(t), e2e.StartRegistry(t)
	staging.RemoveImagesAtCleanup(t)
	prod.RemoveImagesAtCleanup(t)
	project := e2e.ProjectName(t)
	dir := releaseProject(t, project, staging, prod)
	e2e.RemoveAtCleanup(t, project+"-staging", project+"-prod")
	cmd := e2e.Cmd{Dir: dir, Env: []string{"DOCKER_CONFIG=" + e2e.DockerConfig(t, staging, prod)}}

	// release
	r := cmd.MustRun(t, "--progress", "plain", "release", "--env", "staging", "--tag", "v1")
	stagingLockPath := strings.TrimSpace(r.Stdout)
	if filepath.Dir(stagingLockPath) != filepath.Join(dir, ".stack", "releases", "staging") || !strings.HasSuffix(stagingLockPath, "-v1.json") {
		t.Fatalf("release printed %q, want a lock in .stack/releases/staging named <time>-v1.json", stagingLockPath)
	}
	v1 := lockAt(t, stagingLockPath)
	if v1.Environment != "staging" || v1.Tag != "v1" || v1.Project != project+"-staging" || len(v1.Services) != 2 || v1.Manifest.Hash == "" {
		t.Fatalf("staging lock %+v", v1)
	}
	if v1.Services["web"].Source != "build" || v1.Services["cache"].Source != "busybox:stable" {
		t.Errorf("lock sources: %+v", v1.Services)
	}
	for svc, si := range v1.Services {
		want := staging.Host + "/shop/" + svc + "@sha256:"
		if !strings.HasPrefix(si.Image, want) {
			t.Errorf("service %s locked as %s, want %s...", svc, si.Image, want)
		}
		d, _ := si.Digest()
		if got := e2e.RegistryDigest(t, staging.Ref("shop/"+svc+":v1")); got != d {
			t.Errorf("staging %s:v1 is %s, the lock says %s", svc, got, d)
		}
	}
	r = cmd.MustRun(t, "releases", "--env", "staging")
	if lines := strings.Split(strings.TrimSpace(r.Stdout), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "v1 ") || !strings.Contains(lines[1], " released ") {
		t.Fatalf("releases --env staging:\n%s\nwant a header and v1, released (nothing runs)", r.Stdout)
	}
	r = cmd.MustRun(t, "releases", "--env", "staging", "--format", "json")
	var listed []struct {
		Path    string         `json:"path"`
		Current bool           `json:"current"`
		Running bool           `json:"running"`
		Lock    *registry.Lock `json:"lock"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &listed); err != nil || len(listed) != 1 || listed[0].Path != stagingLockPath ||
		!listed[0].Current || listed[0].Running || listed[0].Lock == nil || listed[0].Lock.Tag != "v1" {
		t.Fatalf("releases --format json: %v\n%s", err, r.Stdout)
	}

	// promote
	staging.Reset()
	prod.Reset()
	r = cmd.MustRun(t, "--progress", "json", "promote", "staging", "prod")
	if !strings.Contains(r.Stderr, `"action":"promote"`) || !strings.Contains(r.Stderr, `"status":"done"`) {
		t.Errorf("promote --progress json printed no promote events on stderr:\n%s", r.Stderr)
	}
	prodLockPath, err := registry.Store{Dir: filepath.Join(dir, ".stack", "releases")}.Current("prod")
	if err != nil {
		t.Fatal(err)
	}
	promoted := lockAt(t, prodLockPath)
	if promoted.Environment != "prod" || promoted.Tag != "v1" || promoted.PromotedFrom == nil || promoted.Manifest.Hash != v1.Manifest.Hash {
		t.Fatalf("prod lock %+v", promoted)
	}
	for svc, si := range promoted.Services {
		want, _ := v1.Services[svc].Digest()
		if si.Image != prod.Host+"/shop/"+svc+"@"+want {
			t.Errorf("prod lock: %s is %s, want %s/shop/%s@%s", svc, si.Image, prod.Host, svc, want)
		}
		if got := e2e.RegistryDigest(t, prod.Ref("shop/"+svc+":v1")); got != want {
			t.Errorf("prod %s:v1 is %s, staging's digest is %s", svc, got, want)
		}
	}
	first := prod.Stats()
	// two images, and the lock's record in prod's release history
	if first.BlobUploads == 0 || first.BlobBytesIn == 0 || first.ManifestWrites != 3 {
		t.Fatalf("first promotion: prod %+v: want blobs and three manifests written", first)
	}
	t.Logf("first promotion: prod %+v, staging %+v", first, staging.Stats())

	// promote again: nothing moves
	staging.Reset()
	prod.Reset()
	r = cmd.MustRun(t, "promote", "staging", "prod")
	if got := strings.TrimSpace(r.Stdout); got != prodLockPath {
		t.Errorf("second promotion printed %q, want the unchanged current lock %s", got, prodLockPath)
	}
	if s, src := prod.Stats(), staging.Stats(); s.BlobUploads != 0 || s.BlobBytesIn != 0 || s.ManifestWrites != 0 || src.BlobReads != 0 {
		t.Fatalf("second promotion moved data: prod %+v, staging %+v", s, src)
	}

	// v2, then prod goes down half way through its promotion
	e2e.WriteFiles(t, dir, map[string]string{"web/version": "2\n"})
	r = cmd.MustRun(t, "release", "--env", "staging", "--tag", "v2")
	v2 := lockAt(t, r.Stdout)
	if v2.Services["web"].Image == v1.Services["web"].Image || v2.Services["cache"].Image != v1.Services["cache"].Image {
		t.Fatalf("v2 should change web only: v1 %+v, v2 %+v", v1.Services, v2.Services)
	}
	prodDir := filepath.Join(dir, ".stack", "releases", "prod")
	before := dirState(t, prodDir)
	prod.Reset()
	prod.StopAfter(3)
	r = cmd.Run(t, "promote", "staging", "prod")
	if r.Code == 0 {
		t.Fatal("promotion to a registry that went down succeeded")
	}
	if !strings.Contains(r.Stderr, prod.Host) || !strings.Contains(r.Stderr, "service web") {
		t.Errorf("error does not name the image (service web) and the registry %s:\n%s", prod.Host, r.Stderr)
	}
	if after := dirState(t, prodDir); after != before {
		t.Errorf("a failed promotion changed prod's locks:\nbefore\n%s\nafter\n%s", before, after)
	}
}

// dirState is the names and contents of the files in dir.
func dirState(t *testing.T, dir string) string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, de := range des {
		c, err := os.ReadFile(filepath.Join(dir, de.Name()))
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(de.Name() + "\n" + string(c) + "\n")
	}
	return b.String()
}

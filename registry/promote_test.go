package registry_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/stack-deploy/stack/internal/e2e"
	"github.com/stack-deploy/stack/progress"
	"github.com/stack-deploy/stack/registry"
)

// seedRelease writes a random image of two 4 KiB layers per service into
// reg as <reg>/shop/<service>:<tag> and returns the lock of that release.
func seedRelease(t testing.TB, reg *e2e.Registry, tag string, services ...string) *registry.Lock {
	t.Helper()
	l := newLock("staging", tag)
	for _, svc := range services {
		pushImage(t, reg, l, svc, randomLayer(t, 4096), randomLayer(t, 4096))
	}
	return l
}

// Promotion copies every image registry to registry under the same digest,
// then a second promotion of the same release moves no blob at all.
func TestPromoteCopiesByDigestAndIsIdempotent(t *testing.T) {
	staging, prod := e2e.StartRegistry(t), e2e.StartRegistry(t)
	t.Setenv("DOCKER_CONFIG", e2e.DockerConfig(t, staging, prod))
	l := seedRelease(t, staging, "v1", "web", "worker", "redis")
	staging.Reset()

	pr, err := registry.NewPromoter()
	if err != nil {
		t.Fatal(err)
	}
	rec := &progress.Recorder{}
	ctx := progress.WithSink(t.Context(), rec)
	to := registry.Target{Environment: "prod", Registry: prod.Host + "/shop"}
	got, err := pr.Promote(ctx, l, to)
	if err != nil {
		t.Fatalf("promote: %v", err)
	}
	if got.Environment != "prod" || got.Tag != "v1" || got.PromotedFrom == nil || got.PromotedFrom.Environment != "staging" || got.Manifest.Hash != l.Manifest.Hash {
		t.Fatalf("promoted lock %+v", got)
	}
	for _, svc := range l.ServiceNames() {
		want, _ := l.Services[svc].Digest()
		img := got.Services[svc].Image
		if img != prod.Host+"/shop/"+svc+"@"+want {
			t.Errorf("service %s promoted as %s, want %s/shop/%s@%s", svc, img, prod.Host, svc, want)
		}
		ref, err := name.ParseReference(prod.Ref("shop/" + svc + ":v1"))
		if err != nil {
			t.Fatal(err)
		}
		d, err := remote.Head(ref, testAuth)
		if err != nil || d.Digest.String() != want {
			t.Errorf("prod %s:v1 is %v (%v), want %s", svc, d, err, want)
		}
	}
	first := prod.Stats()
	if first.BlobUploads == 0 || first.BlobBytesIn < 3*2*4096 || first.ManifestWrites != 3 {
		t.Fatalf("first promotion: prod stats %+v, want 3 images' blobs uploaded and 3 manifests", first)
	}
	if staging.Stats().ManifestWrites != 0 || staging.Stats().BlobUploads != 0 {
		t.Fatalf("first promotion wrote to staging: %+v", staging.Stats())
	}
	var done int
	for _, e := range rec.Events() {
		if e.Status == progress.Done && strings.HasPrefix(e.Message, "copied to ") {
			done++
		}
	}
	if done != 3 {
		t.Errorf("progress: %d 'copied' events, want 3: %+v", done, rec.Events())
	}
	t.Logf("first promotion: prod %+v", first)

	prod.Reset()
	staging.Reset()
	again, err := pr.Promote(t.Context(), l, to)
	if err != nil {
		t.Fatalf("second promote: %v", err)
	}
	for svc, si := range got.Services {
		if again.Services[svc].Image != si.Image {
			t.Errorf("second promotion: %s is %s, first was %s", svc, again.Services[svc].Image, si.Image)
		}
	}
	second, src := prod.Stats(), staging.Stats()
	if second.BlobUploads != 0 || second.BlobBytesIn != 0 || second.ManifestWrites != 0 || src.BlobReads != 0 {
		t.Fatalf("second promotion moved data: prod %+v, staging %+v; want no blob, no manifest written, no blob read", second, src)
	}
	t.Logf("second promotion: prod %+v, staging %+v", second, src)
}

// A registry that goes away half way fails the promotion with an error that
// names the image and the registry, and no lock comes back.
func TestPromoteRegistryDownMidway(t *testing.T) {
	staging, prod := e2e.StartRegistry(t), e2e.StartRegistry(t)
	t.Setenv("DOCKER_CONFIG", e2e.DockerConfig(t, staging, prod))
	l := seedRelease(t, staging, "v1", "web", "worker")
	pr, err := registry.NewPromoter(registry.WithJobs(1, 1))
	if err != nil {
		t.Fatal(err)
	}
	prod.StopAfter(4) // a few requests into the first image
	got, err := pr.Promote(t.Context(), l, registry.Target{Environment: "prod", Registry: prod.Host + "/shop"})
	if err == nil {
		t.Fatalf("promotion to a registry that went down succeeded: %+v", got)
	}
	if got != nil {
		t.Errorf("a failed promotion returned a lock: %+v", got)
	}
	msg := err.Error()
	t.Logf("error: %v", err)
	if !strings.Contains(msg, prod.Host) || !strings.Contains(msg, "service web") {
		t.Errorf("error %q does not name the image (service web) and the registry %s", msg, prod.Host)
	}
}

// Credentials come from the Docker config; without them the registry's 401
// is reported for the registry concerned.
func TestPromoteWithoutCredentials(t *testing.T) {
	staging, prod := e2e.StartRegistry(t), e2e.StartRegistry(t)
	t.Setenv("DOCKER_CONFIG", e2e.DockerConfig(t, staging)) // prod's credentials missing
	l := seedRelease(t, staging, "v1", "web")
	pr, err := registry.NewPromoter()
	if err != nil {
		t.Fatal(err)
	}
	_, err = pr.Promote(t.Context(), l, registry.Target{Environment: "prod", Registry: prod.Host + "/shop"})
	if err == nil || !strings.Contains(err.Error(), prod.Host) || !strings.Contains(strings.ToUpper(err.Error()), "UNAUTHORIZED") {
		t.Fatalf("promotion without prod credentials: %v; want an unauthorized error naming %s", err, prod.Host)
	}
}

func TestPromoteNeedsRegistry(t *testing.T) {
	pr, err := registry.NewPromoter()
	if err != nil {
		t.Fatal(err)
	}
	l := &registry.Lock{Version: registry.LockVersion, Environment: "staging", Manifest: registry.ManifestHash{Hash: "sha256:1"},
		Services: map[string]registry.ServiceImage{"web": {Image: "127.0.0.1:1/shop/web@sha256:" + strings.Repeat("a", 64)}}}
	if _, err := pr.Promote(t.Context(), l, registry.Target{Environment: "prod"}); !errors.Is(err, registry.ErrNoRegistry) {
		t.Fatalf("promote to an environment without registry: %v, want registry.ErrNoRegistry", err)
	}
}

// A layer several images share crosses to the target once.
func TestPromoteUploadsSharedLayersOnce(t *testing.T) {
	staging, prod := e2e.StartRegistry(t), e2e.StartRegistry(t)
	t.Setenv("DOCKER_CONFIG", e2e.DockerConfig(t, staging, prod))
	base := randomLayer(t, 64<<10)
	l := newLock("staging", "v1")
	for _, svc := range []string{"a", "b", "c"} {
		pushImage(t, staging, l, svc, base, randomLayer(t, 1024))
	}
	pr, err := registry.NewPromoter()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pr.Promote(t.Context(), l, registry.Target{Environment: "prod", Registry: prod.Host + "/shop"}); err != nil {
		t.Fatal(err)
	}
	// 1 base + 3 own layers + 3 configs; the base mounted into the 2 others
	if s := prod.Stats(); s.BlobUploads != 7 || s.Mounts != 2 || s.BlobBytesIn > 2*(64<<10) {
		t.Fatalf("prod %+v: want 7 blob uploads, 2 mounts and the 64 KiB base layer sent once", s)
	}
}

// Environments on one registry (two repository prefixes): promotion mounts
// every blob from the source repositories and uploads none.
func TestPromoteWithinOneRegistryMounts(t *testing.T) {
	reg := e2e.StartRegistry(t)
	t.Setenv("DOCKER_CONFIG", e2e.DockerConfig(t, reg))
	l := seedRelease(t, reg, "v1", "web", "worker")
	reg.Reset()
	pr, err := registry.NewPromoter()
	if err != nil {
		t.Fatal(err)
	}
	got, err := pr.Promote(t.Context(), l, registry.Target{Environment: "prod", Registry: reg.Host + "/prod/shop"})
	if err != nil {
		t.Fatal(err)
	}
	if img := got.Services["web"].Image; !strings.HasPrefix(img, reg.Host+"/prod/shop/web@sha256:") {
		t.Fatalf("web promoted as %s", img)
	}
	// 2 layers + 1 config per image
	if s := reg.Stats(); s.Mounts != 6 || s.BlobUploads != 0 || s.BlobBytesIn != 0 || s.ManifestWrites != 2 {
		t.Fatalf("stats %+v: want 6 mounts, no upload, 2 manifests", s)
	}
}

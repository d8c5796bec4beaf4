package registry_test

import (
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/stack-deploy/stack/internal/e2e"
	"github.com/stack-deploy/stack/registry"
)

var testAuth = e2e.RegistryAuth

// newLock returns an empty lock of a release of project shop to env.
func newLock(env, tag string) *registry.Lock {
	return &registry.Lock{
		Version: registry.LockVersion, Project: "shop", Environment: env, Tag: tag,
		Created:  time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC),
		Manifest: registry.ManifestHash{Hash: "sha256:feed", Files: map[string]string{"compose.yaml": "sha256:feed"}},
		Services: map[string]registry.ServiceImage{},
	}
}

// randomLayer is a layer of size random bytes.
func randomLayer(t testing.TB, size int64) v1.Layer {
	t.Helper()
	l, err := random.Layer(size, types.DockerLayer)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// pushImage writes an image of the given layers (a linux/amd64 config, so
// the Docker engine can pull it too) to <reg>/shop/<svc>:<tag> and adds it
// to l, by digest.
func pushImage(t testing.TB, reg *e2e.Registry, l *registry.Lock, svc string, layers ...v1.Layer) {
	t.Helper()
	img, err := mutate.AppendLayers(empty.Image, layers...)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture, cfg.Config.Cmd = "linux", "amd64", []string{"/app"}
	if img, err = mutate.ConfigFile(img, cfg); err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewTag(reg.Ref("shop/" + svc + ":" + l.Tag))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, testAuth); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	l.Services[svc] = registry.ServiceImage{Image: ref.Context().Digest(d.String()).String(), Source: "build"}
}

package registry_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/internal/e2e"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/registry"
)

// fakeImages stands in for image.Builder: Ensure records the images it was
// asked for and returns made-up IDs, one per image name; PushIDs writes a
// random image under each upload's name to the registry, as the engine
// would, and returns its digest.
type fakeImages struct {
	mu      sync.Mutex
	ensured map[string]string       // service -> image name asked for
	pushed  map[string]image.Upload // service -> what was pushed
	// overwrite writes another image under each name after the push, as
	// another release with the same tag would.
	overwrite bool
}

func (f *fakeImages) Ensure(_ context.Context, p *manifest.Project, services []string, _ image.EnsureOptions) (map[string]string, error) {
	ids := map[string]string{}
	for _, svc := range services {
		f.ensured[svc] = p.Project.Services[svc].Image
		ids[svc] = "sha256:id-of-" + p.Project.Services[svc].Image
	}
	return ids, nil
}

func (f *fakeImages) PushIDs(_ context.Context, ups []image.Upload) ([]image.Pushed, error) {
	var out []image.Pushed
	for _, u := range ups {
		img, err := random.Image(512, 1)
		if err != nil {
			return nil, err
		}
		r, err := name.ParseReference(u.Ref)
		if err != nil {
			return nil, err
		}
		if err := remote.Write(r, img, testAuth); err != nil {
			return nil, err
		}
		d, err := img.Digest()
		if err != nil {
			return nil, err
		}
		if f.overwrite {
			other, err := random.Image(512, 1)
			if err != nil {
				return nil, err
			}
			if err := remote.Write(r, other, testAuth); err != nil {
				return nil, err
			}
		}
		f.mu.Lock()
		f.pushed[u.Service] = u
		f.mu.Unlock()
		out = append(out, image.Pushed{Service: u.Service, Ref: u.Ref, ID: u.ID, Digest: d.String()})
	}
	return out, nil
}

// Release builds under the environment's names, takes pulled images from
// where the compose files say, and a service running another's built image
// from that build; pushes each image by its ID under the release tag, locks
// the digests the registry stored, and points the environment image names
// (and build tags with a registry) at them there.
func TestReleaseNamesImagesIntoTheRegistry(t *testing.T) {
	reg := e2e.StartRegistry(t)
	t.Setenv("DOCKER_CONFIG", e2e.DockerConfig(t, reg))
	pin := "busybox@sha256:" + strings.Repeat("1", 64)
	dir := t.TempDir()
	e2e.WriteFiles(t, dir, map[string]string{
		"compose.yaml": `name: shop
services:
  web:
    build:
      context: ./web
      tags: [` + reg.Host + `/other/web:dev, local-web:dev]
  api:
    build: ./web
    image: shop-api:1
  worker:
    image: shop-api:1
  cache:
    image: redis:7-alpine
  pinned:
    image: ` + pin + `
x-stack:
  environments:
    staging:
      registry: ` + reg.Host + `/shop
`,
		"web/Dockerfile": "FROM scratch\n",
	})
	p, err := manifest.Load(t.Context(), manifest.Options{Files: []string{filepath.Join(dir, "compose.yaml")}, Env: []string{}, Environment: "staging"})
	if err != nil {
		t.Fatal(err)
	}
	imgs := &fakeImages{ensured: map[string]string{}, pushed: map[string]image.Upload{}}
	pr, err := registry.NewPromoter()
	if err != nil {
		t.Fatal(err)
	}
	l, err := registry.Releaser{Images: imgs, Registry: pr}.Release(t.Context(), p, registry.ReleaseOptions{Tag: "v1"})
	if err != nil {
		t.Fatal(err)
	}

	repo := reg.Host + "/shop/"
	wantEnsured := map[string]string{"web": repo + "web:latest", "api": repo + "api:1", "worker": repo + "api:1", "cache": "redis:7-alpine", "pinned": pin}
	for svc, want := range wantEnsured {
		if imgs.ensured[svc] != want {
			t.Errorf("ensured %s as %q, want %q", svc, imgs.ensured[svc], want)
		}
		if u := imgs.pushed[svc]; u.Ref != repo+svc+":v1" || u.ID != "sha256:id-of-"+want {
			t.Errorf("pushed %s as %+v, want %s:v1 from image sha256:id-of-%s", svc, u, repo+svc, want)
		}
	}
	if l.Environment != "staging" || l.Tag != "v1" || l.Project != "shop-staging" || l.Manifest.Hash == "" || len(l.Services) != len(wantEnsured) {
		t.Fatalf("lock %+v", l)
	}
	sources := map[string]string{"web": "build", "api": "build", "worker": "shop-api:1", "cache": "redis:7-alpine", "pinned": pin}
	names := map[string][]string{
		"web":    {repo + "web:v1", repo + "web:latest", reg.Host + "/other/web:dev"},
		"api":    {repo + "api:v1", repo + "api:1"},
		"worker": {repo + "worker:v1", repo + "worker:1"},
		"cache":  {repo + "cache:v1", repo + "cache:7-alpine"},
		"pinned": {repo + "pinned:v1"},
	}
	for svc, si := range l.Services {
		d, err := si.Digest()
		if err != nil || !strings.HasPrefix(si.Image, repo+svc+"@") || si.Source != sources[svc] {
			t.Errorf("service %s locked as %+v (%v)", svc, si, err)
			continue
		}
		for _, n := range names[svc] {
			ref, err := name.ParseReference(n)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := remote.Head(ref, testAuth); err != nil || got.Digest.String() != d {
				t.Errorf("%s in the registry: %v %v, want %s", n, got, err, d)
			}
		}
	}
	if p.Project.Services["pinned"].Image != repo+"pinned@sha256:"+strings.Repeat("1", 64) {
		t.Errorf("Release changed the project: pinned is %s", p.Project.Services["pinned"].Image)
	}
}

// A release tag that names another image than the one the release pushed
// (another release with the same tag pushed meanwhile) fails the release
// rather than locking an image the tag does not name.
func TestReleaseRefusesATagAnotherReleaseTook(t *testing.T) {
	reg := e2e.StartRegistry(t)
	t.Setenv("DOCKER_CONFIG", e2e.DockerConfig(t, reg))
	dir := t.TempDir()
	e2e.WriteFiles(t, dir, map[string]string{
		"compose.yaml":   "name: shop\nservices:\n  web:\n    build: ./web\nx-stack:\n  environments:\n    staging:\n      registry: " + reg.Host + "/shop\n",
		"web/Dockerfile": "FROM scratch\n",
	})
	p, err := manifest.Load(t.Context(), manifest.Options{Files: []string{filepath.Join(dir, "compose.yaml")}, Env: []string{}, Environment: "staging"})
	if err != nil {
		t.Fatal(err)
	}
	pr, err := registry.NewPromoter()
	if err != nil {
		t.Fatal(err)
	}
	imgs := &fakeImages{ensured: map[string]string{}, pushed: map[string]image.Upload{}, overwrite: true}
	l, err := registry.Releaser{Images: imgs, Registry: pr}.Release(t.Context(), p, registry.ReleaseOptions{Tag: "v1"})
	if !errors.Is(err, registry.ErrDigestMismatch) || !strings.Contains(err.Error(), "--tag") || l != nil {
		t.Fatalf("Release = %v, %v; want ErrDigestMismatch saying to use another --tag", l, err)
	}
}

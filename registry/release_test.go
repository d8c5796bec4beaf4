package registry_test

import (
	"context"
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
// asked for and returns made-up IDs; Push writes a random image under each
// service's name to the registry, as the engine would, and returns its digest.
type fakeImages struct {
	mu      sync.Mutex
	ensured map[string]string // service -> image name asked for
	pushed  map[string]string // service -> name pushed
}

func (f *fakeImages) Ensure(_ context.Context, p *manifest.Project, services []string, _ image.EnsureOptions) (map[string]string, error) {
	ids := map[string]string{}
	for _, svc := range services {
		f.ensured[svc] = p.Project.Services[svc].Image
		ids[svc] = "sha256:id-of-" + svc
	}
	return ids, nil
}

func (f *fakeImages) Push(_ context.Context, p *manifest.Project, services []string) ([]image.Pushed, error) {
	var out []image.Pushed
	for _, svc := range services {
		ref := p.Project.Services[svc].Image
		img, err := random.Image(512, 1)
		if err != nil {
			return nil, err
		}
		r, err := name.ParseReference(ref)
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
		f.mu.Lock()
		f.pushed[svc] = ref
		f.mu.Unlock()
		out = append(out, image.Pushed{Service: svc, Ref: ref, Digest: d.String()})
	}
	return out, nil
}

type fakeTagger struct{ tags map[string]string }

func (f *fakeTagger) ImageTag(_ context.Context, source, target string) error {
	f.tags[source] = target
	return nil
}

// Release builds under the environment's names, takes pulled images from
// where the compose files say and names them into the registry (a digest
// pin under the release tag), pushes, and locks the digests the registry
// stored, tagged with the release tag there.
func TestReleaseNamesImagesIntoTheRegistry(t *testing.T) {
	reg := e2e.StartRegistry(t)
	t.Setenv("DOCKER_CONFIG", e2e.DockerConfig(t, reg))
	pin := "busybox@sha256:" + strings.Repeat("1", 64)
	dir := t.TempDir()
	e2e.WriteFiles(t, dir, map[string]string{
		"compose.yaml": `name: shop
services:
  web:
    build: ./web
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
	imgs := &fakeImages{ensured: map[string]string{}, pushed: map[string]string{}}
	tagger := &fakeTagger{tags: map[string]string{}}
	pr, err := registry.NewPromoter()
	if err != nil {
		t.Fatal(err)
	}
	l, err := registry.Releaser{Images: imgs, Engine: tagger, Registry: pr}.Release(t.Context(), p, registry.ReleaseOptions{Tag: "v1"})
	if err != nil {
		t.Fatal(err)
	}

	repo := reg.Host + "/shop/"
	wantEnsured := map[string]string{"web": repo + "web:latest", "cache": "redis:7-alpine", "pinned": pin}
	wantPushed := map[string]string{"web": repo + "web:latest", "cache": repo + "cache:7-alpine", "pinned": repo + "pinned:v1"}
	wantTags := map[string]string{"sha256:id-of-cache": repo + "cache:7-alpine", "sha256:id-of-pinned": repo + "pinned:v1"}
	for svc, want := range wantEnsured {
		if imgs.ensured[svc] != want {
			t.Errorf("ensured %s as %q, want %q", svc, imgs.ensured[svc], want)
		}
		if imgs.pushed[svc] != wantPushed[svc] {
			t.Errorf("pushed %s as %q, want %q", svc, imgs.pushed[svc], wantPushed[svc])
		}
	}
	if len(tagger.tags) != 2 {
		t.Errorf("engine tags %v, want %v", tagger.tags, wantTags)
	}
	for src, want := range wantTags {
		if tagger.tags[src] != want {
			t.Errorf("engine tagged %s as %q, want %q", src, tagger.tags[src], want)
		}
	}
	if l.Environment != "staging" || l.Tag != "v1" || l.Project != "shop" || l.Manifest.Hash == "" || len(l.Services) != 3 {
		t.Fatalf("lock %+v", l)
	}
	sources := map[string]string{"web": "build", "cache": "redis:7-alpine", "pinned": pin}
	for svc, si := range l.Services {
		d, err := si.Digest()
		if err != nil || !strings.HasPrefix(si.Image, repo+svc+"@") || si.Source != sources[svc] {
			t.Errorf("service %s locked as %+v (%v)", svc, si, err)
			continue
		}
		ref, err := name.ParseReference(repo + svc + ":v1")
		if err != nil {
			t.Fatal(err)
		}
		if got, err := remote.Head(ref, testAuth); err != nil || got.Digest.String() != d {
			t.Errorf("%s:v1 in the registry: %v %v, want %s", svc, got, err, d)
		}
	}
	if p.Project.Services["pinned"].Image != repo+"pinned@sha256:"+strings.Repeat("1", 64) {
		t.Errorf("Release changed the project: pinned is %s", p.Project.Services["pinned"].Image)
	}
}

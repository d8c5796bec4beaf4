package image

import (
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestNodeImagesResolveAndFacts: against a registry (go-containerregistry's,
// in memory), with no engine: a tag the registry holds resolves to its
// digest and the project is pinned to it; its config's EXPOSE and
// HEALTHCHECK are the service's facts; a tag it lacks, with nothing to
// copy it from, is ErrNotFound naming who pulls, and its facts unknown.
func TestNodeImagesResolveAndFacts(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf.Config.ExposedPorts = map[string]struct{}{"8080/tcp": {}}
	cf.Config.Healthcheck = &v1.HealthConfig{Test: []string{"CMD", "/app", "-healthcheck"}}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	web := host + "/shop/web:1"
	ref, err := name.ParseReference(web)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	digest, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	p := load(t, map[string]string{"compose.yaml": "services:\n  web: {image: " + web + "}\n  api: {image: " + host + "/shop/api:1}\n"})
	n := NewNodeImages(nil, nil, authn.DefaultKeychain, "the cluster's nodes")

	facts, err := n.Facts(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	if got := facts.ImagePorts("web"); !reflect.DeepEqual(got, []string{"8080/tcp"}) {
		t.Errorf("web's ports: %v", got)
	}
	if has, known := facts.ImageHealthcheck("web"); !has || !known {
		t.Errorf("web's healthcheck: has %v, known %v", has, known)
	}
	if _, known := facts.ImageHealthcheck("api"); known {
		t.Error("api's image is not in the registry, yet its facts are known")
	}

	_, err = n.Resolve(t.Context(), p, []string{"api"}, EnsureOptions{})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "the cluster's nodes") || !strings.Contains(err.Error(), `service "api"`) {
		t.Errorf("api's image is missing: %v", err)
	}
	refs, err := n.Resolve(t.Context(), p, []string{"web"}, EnsureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := host + "/shop/web@" + digest.String()
	if refs["web"] != want || p.Project.Services["web"].Image != want {
		t.Errorf("web resolved to %q, pinned to %q; want %q", refs["web"], p.Project.Services["web"].Image, want)
	}
}

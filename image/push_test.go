package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/stack-deploy/stack/internal/e2e"
)

func TestHasRegistry(t *testing.T) {
	for ref, want := range map[string]bool{
		"127.0.0.1:5000/shop/web:1": true,
		"localhost/web":             true,
		"ghcr.io/o/web":             true,
		"docker.io/library/redis":   true,
		"redis:7-alpine":            false,
		"shop/web":                  false,
		"p-web":                     false,
	} {
		if got := HasRegistry(ref); got != want {
			t.Errorf("HasRegistry(%q) = %v, want %v", ref, got, want)
		}
	}
}

// staticKeychain hands out one user and password for every registry.
type staticKeychain struct{ user, password string }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return &authn.Basic{Username: k.user, Password: k.password}, nil
}

// pushEngine is an engine whose pushes write to a real registry (in
// process): its names point at image IDs, and ImagePush writes the image
// its name points at when the push starts, as the engine does.
type pushEngine struct {
	Client
	mu      sync.Mutex
	images  map[string]v1.Image // image ID (config digest) -> image
	names   map[string]string   // name -> image ID
	removed []string            // names ImageRemove was asked to remove
	// failures are the errors of the first pushes, one each.
	failures []string
	pushes   int
	// onPush runs as a push starts, before the name is resolved.
	onPush func(e *pushEngine, ref string)
}

func newPushEngine() *pushEngine {
	return &pushEngine{images: map[string]v1.Image{}, names: map[string]string{}}
}

// newImage makes a random image known to the engine and returns its ID.
func (e *pushEngine) newImage(t *testing.T) string {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	id, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.images[id.String()] = img
	return id.String()
}

func (e *pushEngine) name(ref, id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.names[ref] = id
}

func (e *pushEngine) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (image.InspectResponse, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if id, ok := e.names[ref]; ok {
		return image.InspectResponse{ID: id}, nil
	}
	return (&fakeClient{}).ImageInspect(context.Background(), ref)
}

func (e *pushEngine) ImageTag(_ context.Context, source, target string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.images[source]; !ok {
		return fmt.Errorf("no such image %s", source)
	}
	e.names[target] = source
	return nil
}

func (e *pushEngine) ImageRemove(_ context.Context, ref string, _ image.RemoveOptions) ([]image.DeleteResponse, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.names, ref)
	e.removed = append(e.removed, ref)
	return nil, nil
}

func (e *pushEngine) ImagePush(_ context.Context, ref string, _ image.PushOptions) (io.ReadCloser, error) {
	if e.onPush != nil {
		e.onPush(e, ref)
	}
	e.mu.Lock()
	e.pushes++
	n, img := e.pushes, e.images[e.names[ref]]
	e.mu.Unlock()
	if n <= len(e.failures) {
		return stream(nil, errors.New(e.failures[n-1]), nil), nil
	}
	if img == nil {
		return stream(nil, fmt.Errorf("An image does not exist locally with the tag: %s", ref), nil), nil
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, err
	}
	if err := remote.Write(r, img, e2e.RegistryAuth); err != nil {
		return stream(nil, err, nil), nil
	}
	d, err := img.Digest()
	if err != nil {
		return nil, err
	}
	return stream(nil, nil, map[string]string{"Tag": r.Identifier(), "Digest": d.String()}), nil
}

func newPushBuilder(t *testing.T, e *pushEngine, opts ...Option) *Builder {
	t.Helper()
	return newFakeBuilder(t, &fakeClient{}, append([]Option{WithClient(e), WithKeychain(staticKeychain{e2e.RegistryUser, e2e.RegistryPassword})}, opts...)...)
}

func TestPushRetries(t *testing.T) {
	reg := e2e.StartRegistry(t)
	ref := reg.Ref("shop/web:1")
	tests := []struct {
		name     string
		failures []string // the error of each attempt before success
		attempts int
		wantErr  string // "" means success
		wantTry  int
	}{
		{"success", nil, 3, "", 1},
		{"transient then success", []string{"received unexpected HTTP status: 503 Service Unavailable", "dial tcp: connection refused"}, 3, "", 3},
		{"transient beyond the bound", []string{"502 Bad Gateway", "502 Bad Gateway", "502 Bad Gateway"}, 3, "attempt 3 of 3", 3},
		{"refused credentials are not retried", []string{"unauthorized: authentication required for stack:" + e2e.RegistryPassword}, 3, "registry refused the credentials", 1},
		{"a permanent error is not retried", []string{"manifest invalid"}, 3, "manifest invalid", 1},
		{"digits in a digest are no status code", []string{"blob unknown: sha256:ab401c5003e0"}, 3, "blob unknown", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := load(t, map[string]string{"compose.yaml": "services:\n  web:\n    image: " + ref + "\n"})
			e := newPushEngine()
			id := e.newImage(t)
			e.name(ref, id)
			e.failures = tt.failures
			b := newPushBuilder(t, e, WithRetries(tt.attempts, 0))
			pushed, err := b.Push(t.Context(), p, nil)
			if e.pushes != tt.wantTry {
				t.Errorf("%d attempts, want %d", e.pushes, tt.wantTry)
			}
			if tt.wantErr == "" {
				if err != nil || len(pushed) != 1 || pushed[0].Ref != ref || pushed[0].ID != id || pushed[0].Digest != e2e.RegistryDigest(t, ref) {
					t.Fatalf("Push = %+v, %v; want %s of image %s at the registry's digest", pushed, err, ref, id)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Push error %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), e2e.RegistryPassword) {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

// A push checks that the registry stored the image it meant to push: a
// name moved to another image on the engine during the push (a concurrent
// build) is an error, never another image's digest reported as this one's.
// PushIDs names each image for its push only.
func TestPushChecksWhatTheRegistryStored(t *testing.T) {
	reg := e2e.StartRegistry(t)
	ref := reg.Ref("shop/web:v1")
	tests := []struct {
		name    string
		byID    bool // PushIDs, else Push
		moved   bool // another image takes the name as the push starts
		wantErr error
	}{
		{"push", false, false, nil},
		{"push, name moved", false, true, ErrPushedOther},
		{"push by ID", true, false, nil},
		{"push by ID, name moved", true, true, ErrPushedOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newPushEngine()
			mine, other := e.newImage(t), e.newImage(t)
			if tt.moved {
				e.onPush = func(e *pushEngine, ref string) { e.name(ref, other) }
			}
			b := newPushBuilder(t, e)
			var (
				pushed []Pushed
				err    error
			)
			if tt.byID {
				pushed, err = b.PushIDs(t.Context(), []Upload{{Service: "web", ID: mine, Ref: ref}})
			} else {
				e.name(ref, mine)
				pushed, err = b.Push(t.Context(), load(t, map[string]string{"compose.yaml": "services:\n  web:\n    image: " + ref + "\n"}), nil)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), shortID(mine)) || !strings.Contains(err.Error(), shortID(other)) || len(pushed) != 0 {
					t.Fatalf("Push = %+v, %v; want %v naming both images", pushed, err, tt.wantErr)
				}
			} else if err != nil || len(pushed) != 1 || pushed[0].ID != mine || pushed[0].Digest != e2e.RegistryDigest(t, ref) {
				t.Fatalf("Push = %+v, %v; want image %s at the registry's digest", pushed, err, mine)
			}
			// PushIDs removes the name it gave, but not once another run
			// has given it to its own image; Push leaves names alone.
			_, named := e.names[ref]
			switch {
			case tt.byID && !tt.moved && (named || !slices.Equal(e.removed, []string{ref})):
				t.Errorf("after PushIDs the engine names %v, removed %v: want %s removed", e.names, e.removed, ref)
			case tt.byID && tt.moved && (e.names[ref] != other || len(e.removed) != 0):
				t.Errorf("after PushIDs the engine names %v, removed %v: want %s left to the other image", e.names, e.removed, ref)
			case !tt.byID && (!named || len(e.removed) != 0):
				t.Errorf("Push removed %v: want the engine's names left alone", e.removed)
			}
		})
	}
}

func TestPushIDsRefusesBadUploads(t *testing.T) {
	e := newPushEngine()
	id := e.newImage(t)
	b := newPushBuilder(t, e)
	for _, u := range []Upload{
		{Service: "web", ID: "", Ref: "127.0.0.1:5000/shop/web:v1"},
		{Service: "web", ID: id, Ref: "127.0.0.1:5000/shop/web"},
		{Service: "web", ID: id, Ref: "shop/web:v1"},
		{Service: "web", ID: id, Ref: "127.0.0.1:5000/shop/web@sha256:" + strings.Repeat("1", 64)},
	} {
		if _, err := b.PushIDs(t.Context(), []Upload{u}); err == nil || !strings.Contains(err.Error(), `service "web"`) {
			t.Errorf("PushIDs(%+v) = %v, want an error naming the service", u, err)
		}
	}
	if e.pushes != 0 || len(e.names) != 0 {
		t.Errorf("bad uploads reached the engine: %d pushes, names %v", e.pushes, e.names)
	}
}

func TestPushNeedsTheImageOnTheEngine(t *testing.T) {
	e := newPushEngine()
	b := newPushBuilder(t, e)
	p := load(t, map[string]string{"compose.yaml": "services:\n  web:\n    image: 127.0.0.1:5000/shop/web:1\n"})
	_, err := b.Push(t.Context(), p, nil)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "stack build") || e.pushes != 0 {
		t.Fatalf("Push of a missing image = %v after %d pushes, want ErrNotFound saying stack build, and no push", err, e.pushes)
	}
}

func TestPushedDigest(t *testing.T) {
	d := "sha256:" + strings.Repeat("a", 64)
	for in, want := range map[string]string{"1.0: digest: " + d + " size: 581": d, "Pushed": "", "latest: digest: sha256:12 size: 5": ""} {
		if got := pushedDigest(in); got != want {
			t.Errorf("pushedDigest(%q) = %q; want %q", in, got, want)
		}
	}
}

// The registry's failures worth another attempt, as each engine relays
// them, and some that are not.
func TestIsTransient(t *testing.T) {
	for msg, want := range map[string]bool{
		"received unexpected HTTP status: 503 Service Unavailable": true, // 20.10
		"error from registry: unavailable":                         true, // 29
		"error from registry: toomanyrequests":                     true,
		"dial tcp 127.0.0.1:5000: connect: connection refused":     true,
		"manifest blob unknown: blob unknown to registry":          false,
		"denied: requested access to the resource is denied":       false,
		"sha256:5030e7a503a0 already exists":                       false,
	} {
		if got := isTransient(msg); got != want {
			t.Errorf("isTransient(%q) = %v, want %v", msg, got, want)
		}
	}
}

package image

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
)

// pull_policy decides, for an image: service, whether the registry is asked,
// as Compose does.
func TestPullPolicy(t *testing.T) {
	const fresh, stale = "fresh", "stale"
	tests := []struct {
		policy  string
		local   string // "", fresh (tagged a minute ago) or stale (tagged two days ago)
		pullErr error
		pulls   bool
		wantErr string
	}{
		{policy: "", local: "", pulls: true},
		{policy: "", local: fresh, pulls: false},
		{policy: "missing", local: "", pulls: true},
		{policy: "if_not_present", local: fresh, pulls: false},
		{policy: "always", local: fresh, pulls: true},
		{policy: "always", local: fresh, pullErr: errors.New("manifest unknown"), pulls: true, wantErr: "pulling it failed"},
		{policy: "never", local: fresh, pulls: false},
		{policy: "never", local: "", pulls: false, wantErr: "pull_policy is never"},
		{policy: "daily", local: fresh, pulls: false},
		{policy: "daily", local: stale, pulls: true},
		{policy: "daily", local: stale, pullErr: errors.New("connection refused"), pulls: true},
		{policy: "refresh", local: fresh, pulls: true},
		{policy: "missing", local: "", pullErr: errors.New("manifest unknown"), pulls: true, wantErr: `service "db": image 127.0.0.1:5000/db:1 is not on the engine and pulling it failed`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%s/%v", tt.policy, tt.local, tt.pullErr), func(t *testing.T) {
			compose := "services:\n  db:\n    image: 127.0.0.1:5000/db:1\n"
			if tt.policy != "" {
				compose += "    pull_policy: " + tt.policy + "\n"
			}
			pulled := false
			f := &fakeClient{
				inspect: func(ref string) (image.InspectResponse, error) {
					switch {
					case tt.local == "" && !pulled:
						return image.InspectResponse{}, fmt.Errorf("%s: %w", ref, cerrdefs.ErrNotFound)
					case tt.local == stale && !pulled:
						return image.InspectResponse{ID: "sha256:old", Metadata: image.Metadata{LastTagTime: time.Now().Add(-48 * time.Hour)}}, nil
					case pulled:
						return image.InspectResponse{ID: "sha256:new", Metadata: image.Metadata{LastTagTime: time.Now()}}, nil
					}
					return image.InspectResponse{ID: "sha256:old", Metadata: image.Metadata{LastTagTime: time.Now().Add(-time.Minute)}}, nil
				},
				pull: func(string) error {
					pulled = tt.pullErr == nil
					return tt.pullErr
				},
			}
			p := load(t, map[string]string{"compose.yaml": compose})
			ids, err := newFakeBuilder(t, f, WithKeychain(staticKeychain{})).Ensure(t.Context(), p, nil, EnsureOptions{})
			asked := pulled || tt.pullErr != nil
			if asked != tt.pulls {
				t.Errorf("asked the registry: %v, want %v", asked, tt.pulls)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrNotFound) {
					t.Fatalf("Ensure: %v, want ErrNotFound with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || ids["db"] == "" {
				t.Fatalf("Ensure = %v, %v", ids, err)
			}
		})
	}
}

// Services on one image cost one look-up, and all get its ID.
func TestFetchLooksUpASharedImageOnce(t *testing.T) {
	p := load(t, map[string]string{"compose.yaml": "services:\n  a:\n    image: busybox\n  b:\n    image: busybox\n  c:\n    image: busybox\n  d:\n    image: redis\n"})
	var mu sync.Mutex
	inspected := map[string]int{}
	f := &fakeClient{inspect: func(ref string) (image.InspectResponse, error) {
		mu.Lock()
		defer mu.Unlock()
		inspected[ref]++
		return image.InspectResponse{ID: "sha256:" + ref}, nil
	}}
	ids, err := newFakeBuilder(t, f).Ensure(t.Context(), p, nil, EnsureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if inspected["busybox"] != 1 || inspected["redis"] != 1 {
		t.Errorf("inspects %v, want one per image", inspected)
	}
	if ids["a"] != "sha256:busybox" || ids["b"] != "sha256:busybox" || ids["c"] != "sha256:busybox" || ids["d"] != "sha256:redis" {
		t.Errorf("ids %v", ids)
	}
}

package image_test

import (
	"context"
	"path/filepath"
	"reflect"
	"sync"
	"testing"

	"github.com/stack-deploy/stack/internal/dockerclient"

	dockerimage "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/internal/e2e"
	"github.com/stack-deploy/stack/manifest"
)

// countingInspector counts the inspects that reach the engine, by image.
type countingInspector struct {
	image.Inspector
	mu sync.Mutex
	n  map[string]int
}

func (c *countingInspector) ImageInspect(ctx context.Context, ref string, opts ...client.ImageInspectOption) (dockerimage.InspectResponse, error) {
	c.mu.Lock()
	c.n[ref]++
	c.mu.Unlock()
	return c.Inspector.ImageInspect(ctx, ref, opts...)
}

// TestFactsE2E: Facts against the real engine. Each service is reachable
// under its name; its image ports are the image's EXPOSE set, sorted, empty
// for an image without EXPOSE, unknown (nil) for an image the engine does
// not have, including a build-only service not built yet; each image is
// inspected once.
func TestFactsE2E(t *testing.T) {
	e2e.Engine(t)
	project := e2e.ProjectName(t)
	multi := project + "-multi:1"
	dir := t.TempDir()
	e2e.WriteFiles(t, dir, map[string]string{
		"compose.yaml": `
services:
  cache: {image: redis:7-alpine}
  sessions: {image: redis:7-alpine}
  shell: {image: busybox:stable}
  absent: {image: stack-e2e-never-built:none}
  built: {build: .}
  multi: {image: ` + multi + `}
`,
	})
	e2e.DockerfileImage(t, multi, "FROM busybox:stable\nEXPOSE 9090 53/udp 8080\n")

	p, err := manifest.Load(t.Context(), manifest.Options{Files: []string{filepath.Join(dir, "compose.yaml")}, ProjectName: project, Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := dockerclient.New()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	counting := &countingInspector{Inspector: c, n: map[string]int{}}
	f, err := image.InspectFacts(t.Context(), counting, p)
	if err != nil {
		t.Fatalf("Facts: %v", err)
	}

	want := map[string][]string{
		"cache":    {"6379/tcp"},
		"sessions": {"6379/tcp"},
		"shell":    {},
		"absent":   nil,
		"built":    nil,
		"multi":    {"53/udp", "8080/tcp", "9090/tcp"},
	}
	for svc, ports := range want {
		if got := f.ImagePorts(svc); !reflect.DeepEqual(got, ports) || (got == nil) != (ports == nil) {
			t.Errorf("ImagePorts(%s) = %#v, want %#v", svc, got, ports)
		}
		if got := f.Host(svc); got != svc {
			t.Errorf("Host(%s) = %q, want the service name", svc, got)
		}
	}
	wantInspects := map[string]int{"redis:7-alpine": 1, "busybox:stable": 1, "stack-e2e-never-built:none": 1, project + "-built": 1, multi: 1}
	if !reflect.DeepEqual(counting.n, wantInspects) {
		t.Errorf("inspects %v, want one per image %v", counting.n, wantInspects)
	}
}

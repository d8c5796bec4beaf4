package registry

import (
	"github.com/google/go-containerregistry/pkg/name"

	"context"
	"fmt"
	"slices"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	dockerimage "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/stack-deploy/stack/engine"
)

// EngineReader is the part of the Docker client Deployed reads with:
// *client.Client implements it.
type EngineReader interface {
	ContainerList(ctx context.Context, options container.ListOptions) ([]container.Summary, error)
	ImageInspect(ctx context.Context, imageID string, opts ...client.ImageInspectOption) (dockerimage.InspectResponse, error)
}

// Running is what a project runs on an engine: for each service with a
// running container, per running container, the repo@sha256 names of the
// image it was created from.
type Running map[string][][]string

// Deployed reads what project runs on the engine.
func Deployed(ctx context.Context, c EngineReader, project string) (Running, error) {
	cs, err := c.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", engine.LabelProject+"="+project))})
	if err != nil {
		return nil, fmt.Errorf("listing the containers of %q: %w", project, err)
	}
	digests := map[string][]string{} // image ID -> RepoDigests, one inspect each
	out := Running{}
	for _, ct := range cs {
		svc := ct.Labels[engine.LabelService]
		if svc == "" || ct.Labels[engine.LabelOneoff] == "true" {
			continue
		}
		ds, ok := digests[ct.ImageID]
		if !ok {
			img, err := c.ImageInspect(ctx, ct.ImageID)
			if err != nil {
				return nil, fmt.Errorf("inspecting the image of service %s: %w", svc, err)
			}
			ds = img.RepoDigests
			digests[ct.ImageID] = ds
		}
		out[svc] = append(out[svc], ds)
	}
	return out, nil
}

// RunsLock reports whether the engine runs exactly l: something runs, and
// every running container runs the image l pins for its service.
func (r Running) RunsLock(l *Lock) bool {
	if len(r) == 0 {
		return false
	}
	for svc, containers := range r {
		si, ok := l.Services[svc]
		if !ok {
			return false
		}
		for _, names := range containers {
			if !slices.ContainsFunc(names, func(n string) bool { return sameReference(n, si.Image) }) {
				return false
			}
		}
	}
	return true
}

// sameReference compares image references as a registry sees them: the
// engine writes Docker Hub's repositories short (org/web@sha256:...), a lock
// in full (index.docker.io/org/web@sha256:...).
func sameReference(a, b string) bool {
	ra, errA := name.ParseReference(a)
	rb, errB := name.ParseReference(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return ra.Context().Name() == rb.Context().Name() && ra.Identifier() == rb.Identifier()
}

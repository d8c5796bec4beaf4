package docker

import (
	"context"
	"fmt"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/stack-deploy/stack/engine"
)

// RunningImages returns, by service, per service container (one-offs left
// out), the repo@sha256 names of the image it was created from: what
// `stack releases` compares with each release's lock. Each image is
// inspected once.
func (d *Driver) RunningImages(ctx context.Context, project string) (map[string][][]string, error) {
	cs, err := d.client.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", engine.LabelProject+"="+project))})
	if err != nil {
		return nil, fmt.Errorf("listing the containers of %q: %w", project, err)
	}
	digests := map[string][]string{} // image ID -> RepoDigests
	out := map[string][][]string{}
	for _, ct := range cs {
		svc := ct.Labels[engine.LabelService]
		if svc == "" || ct.Labels[engine.LabelOneoff] == "true" {
			continue
		}
		ds, ok := digests[ct.ImageID]
		if !ok {
			var err error
			if ds, err = d.repoDigests(ctx, ct); err != nil {
				return nil, fmt.Errorf("inspecting the image of service %s: %w", svc, err)
			}
			digests[ct.ImageID] = ds
		}
		out[svc] = append(out[svc], ds)
	}
	return out, nil
}

// repoDigests are the repo@sha256 names of the image container ct was
// created from. The containerd image store (Docker 29) gives a container
// the image's manifest digest as its image ID, which an inspect may not
// resolve alone: then the reference the container was created from
// answers, a repo@sha256 one as it is.
func (d *Driver) repoDigests(ctx context.Context, ct container.Summary) ([]string, error) {
	img, err := d.client.ImageInspect(ctx, ct.ImageID)
	if !cerrdefs.IsNotFound(err) {
		return img.RepoDigests, err
	}
	ref := ct.Image
	if !strings.Contains(ref, "@sha256:") {
		// The list may give the image's ID there too; the container's own
		// config keeps the reference it was created from.
		ins, ierr := d.client.ContainerInspect(ctx, ct.ID)
		if ierr != nil {
			return nil, err
		}
		if ins.Config != nil {
			ref = ins.Config.Image
		}
	}
	if strings.Contains(ref, "@sha256:") {
		return []string{ref}, nil
	}
	return nil, err
}

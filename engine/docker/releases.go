package docker

import (
	"context"
	"fmt"

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
			img, err := d.client.ImageInspect(ctx, ct.ImageID)
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

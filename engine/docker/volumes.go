package docker

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/docker/docker/api/types/volume"

	"github.com/stack-deploy/stack/engine"
)

var _ engine.VolumeLister = (*Driver)(nil)

// Volumes lists the volumes labelled with project, by name: its named
// volumes and the anonymous ones its containers were created with.
func (d *Driver) Volumes(ctx context.Context, project string) ([]engine.Volume, error) {
	res, err := d.client.VolumeList(ctx, volume.ListOptions{Filters: ProjectFilter(project)})
	if err != nil {
		return nil, fmt.Errorf("listing volumes of project %q: %w", project, err)
	}
	out := make([]engine.Volume, 0, len(res.Volumes))
	for _, v := range res.Volumes {
		created, _ := time.Parse(time.RFC3339, v.CreatedAt)
		out = append(out, engine.Volume{
			Name: v.Name, Driver: v.Driver, Scope: v.Scope, Mountpoint: v.Mountpoint,
			Labels: v.Labels, Created: created,
		})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

package docker

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"golang.org/x/sync/errgroup"

	"github.com/stack-deploy/stack/engine"
)

// The read-only verbs on containers: top, port, images, ls.

var (
	_ engine.Topper        = (*Driver)(nil)
	_ engine.PortResolver  = (*Driver)(nil)
	_ engine.ImageLister   = (*Driver)(nil)
	_ engine.ProjectLister = (*Driver)(nil)
)

// Top returns the engine's ps of container c.
func (d *Driver) Top(ctx context.Context, c engine.Container) ([]string, [][]string, error) {
	top, err := d.client.ContainerTop(ctx, c.ID, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("listing the processes of container %q: %w", c.Name, err)
	}
	return top.Titles, top.Processes, nil
}

// Ports lists where c's ports are published, by private port, protocol and
// host address.
func (d *Driver) Ports(ctx context.Context, c engine.Container) ([]engine.PortBinding, error) {
	ins, err := d.client.ContainerInspect(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("inspecting container %q: %w", c.Name, err)
	}
	var out []engine.PortBinding
	if ins.NetworkSettings != nil {
		for port, bindings := range ins.NetworkSettings.Ports {
			for _, b := range bindings {
				hp, err := strconv.Atoi(b.HostPort)
				if err != nil {
					continue // exposed, not published
				}
				out = append(out, engine.PortBinding{Private: port.Int(), Protocol: port.Proto(), HostIP: b.HostIP, HostPort: hp})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Private != b.Private {
			return a.Private < b.Private
		}
		if a.Protocol != b.Protocol {
			return a.Protocol < b.Protocol
		}
		if a.HostIP != b.HostIP {
			return a.HostIP < b.HostIP
		}
		return a.HostPort < b.HostPort
	})
	return out, nil
}

// Images describes the image of each of cs: by the name it was created
// with, and what the engine has of it (nothing but the ID when the image
// is gone from the engine).
func (d *Driver) Images(ctx context.Context, cs []engine.Container) ([]engine.ContainerImage, error) {
	out := make([]engine.ContainerImage, len(cs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(inspectParallel)
	for i, c := range cs {
		g.Go(func() error {
			ins, err := d.client.ContainerInspect(gctx, c.ID)
			if err != nil {
				return fmt.Errorf("inspecting container %q: %w", c.Name, err)
			}
			ci := engine.ContainerImage{Container: c, ID: ins.Image}
			if ins.Config != nil {
				if ref, err := reference.ParseDockerRef(ins.Config.Image); err == nil && !strings.HasPrefix(ins.Config.Image, "sha256:") {
					ci.Repository = reference.FamiliarName(ref)
					if t, ok := ref.(reference.Tagged); ok {
						ci.Tag = t.Tag()
					}
				}
			}
			img, err := d.client.ImageInspect(gctx, ins.Image)
			switch {
			case cerrdefs.IsNotFound(err):
			case err != nil:
				return fmt.Errorf("inspecting image %s of container %q: %w", shortID(ins.Image), c.Name, err)
			default:
				ci.Platform = platform(img)
				ci.Size = img.Size
				ci.Created, _ = time.Parse(time.RFC3339Nano, img.Created)
			}
			out[i] = ci
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

func platform(img image.InspectResponse) string {
	p := img.Os + "/" + img.Architecture
	if img.Variant != "" {
		p += "/" + img.Variant
	}
	return p
}

// Projects lists the projects with containers on the engine, from one
// list of the containers carrying the project label.
func (d *Driver) Projects(ctx context.Context, all bool) ([]engine.ProjectSummary, error) {
	cs, err := d.client.ContainerList(ctx, container.ListOptions{All: all, Filters: filters.NewArgs(filters.Arg("label", engine.LabelProject))})
	if err != nil {
		return nil, fmt.Errorf("listing the projects' containers: %w", err)
	}
	byName := map[string]*engine.ProjectSummary{}
	var names []string
	for _, c := range cs {
		name := c.Labels[engine.LabelProject]
		p := byName[name]
		if p == nil {
			p = &engine.ProjectSummary{Name: name, States: map[string]int{}}
			byName[name] = p
			names = append(names, name)
		}
		p.States[string(c.State)]++
		for _, f := range strings.Split(c.Labels[engine.LabelConfigFiles], ",") {
			if f != "" && !slices.Contains(p.ConfigFiles, f) {
				p.ConfigFiles = append(p.ConfigFiles, f)
			}
		}
	}
	sort.Strings(names)
	out := make([]engine.ProjectSummary, 0, len(names))
	for _, n := range names {
		out = append(out, *byName[n])
	}
	return out, nil
}

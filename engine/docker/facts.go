package docker

import (
	"context"
	"fmt"
	"slices"

	cerrdefs "github.com/containerd/errdefs"
	dockerimage "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/internal/dag"
	"github.com/stack-deploy/stack/manifest"
)

// ImageInspector is the part of the Docker client Facts uses.
// *client.Client implements it.
type ImageInspector interface {
	ImageInspect(ctx context.Context, imageID string, inspectOpts ...client.ImageInspectOption) (dockerimage.InspectResponse, error)
}

// Facts answers envinject's questions for this engine (a service is
// reachable under its service name, an alias on the stack's network stable
// across recreation; its image's ports are the EXPOSE set of the image the
// engine has under the service's image name) and says which images declare
// a HEALTHCHECK, inspecting each image once. An image the engine does not
// have yet (not built or pulled) has unknown ports and healthcheck; any
// other inspect failure is an error.
func (d *Driver) Facts(ctx context.Context, p *manifest.Project) (engine.Facts, error) {
	return Facts(ctx, d.client, p)
}

// Facts is Driver.Facts for any image inspector: the image builder's engine
// answers for a project deployed elsewhere.
func Facts(ctx context.Context, c ImageInspector, p *manifest.Project) (engine.Facts, error) {
	var refs, users []string // each image, and the first service running it
	index := map[string]int{}
	for _, name := range p.ServiceNames() {
		ref := p.ImageName(name)
		if _, ok := index[ref]; !ok {
			index[ref] = len(refs)
			refs, users = append(refs, ref), append(users, name)
		}
	}
	// Inspected at once, a few at a time: a round trip each.
	byImage := make([]imageFacts, len(refs))
	if err := dag.Each(ctx, len(refs), inspectParallel, func(ctx context.Context, i int) error {
		ins, err := c.ImageInspect(ctx, refs[i])
		switch {
		case cerrdefs.IsNotFound(err):
		case err != nil:
			return fmt.Errorf("inspecting image %q of service %q: %w", refs[i], users[i], err)
		default:
			byImage[i] = imageFacts{known: true, ports: exposed(ins), healthcheck: declaresHealthcheck(ins)}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	f := localFacts{}
	for _, name := range p.ServiceNames() {
		f[name] = byImage[index[p.ImageName(name)]]
	}
	return f, nil
}

type imageFacts struct {
	known       bool
	ports       []string
	healthcheck bool
}

// localFacts holds the image facts by service name.
type localFacts map[string]imageFacts

func (localFacts) Host(service string) string { return service }

func (f localFacts) ImagePorts(service string) []string { return f[service].ports }

func (f localFacts) ImageHealthcheck(service string) (bool, bool) {
	return f[service].healthcheck, f[service].known
}

// declaresHealthcheck reports whether an image's config has a HEALTHCHECK
// that is not NONE.
func declaresHealthcheck(ins dockerimage.InspectResponse) bool {
	hc := ins.Config != nil && ins.Config.Healthcheck != nil
	return hc && len(ins.Config.Healthcheck.Test) > 0 && ins.Config.Healthcheck.Test[0] != "NONE"
}

// exposed lists an image's EXPOSE ports ("6379/tcp"), sorted: the image
// config stores them as a set, so the Dockerfile's order is gone. An image
// without any gives an empty, non-nil list (known to have none).
func exposed(ins dockerimage.InspectResponse) []string {
	ports := []string{}
	if ins.Config != nil {
		for p := range ins.Config.ExposedPorts {
			ports = append(ports, p)
		}
	}
	slices.Sort(ports)
	return ports
}

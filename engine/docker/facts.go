package docker

import (
	"context"
	"fmt"
	"slices"

	cerrdefs "github.com/containerd/errdefs"
	dockerimage "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/stack-deploy/stack/envinject"
	"github.com/stack-deploy/stack/manifest"
)

// ImageInspector is the part of the Docker client Facts uses.
// *client.Client implements it.
type ImageInspector interface {
	ImageInspect(ctx context.Context, imageID string, inspectOpts ...client.ImageInspectOption) (dockerimage.InspectResponse, error)
}

// Facts answers envinject's questions for the local engine: a service is
// reachable under its service name (an alias on the stack's network, stable
// across recreation), and its image's ports are the EXPOSE set of the image
// the engine has under the service's image name, inspected once per image
// now. An image the engine does not have yet (not built or pulled) has
// unknown ports; any other inspect failure is an error.
func Facts(ctx context.Context, c ImageInspector, p *manifest.Project) (envinject.Facts, error) {
	f := localFacts{}
	byImage := map[string][]string{}
	for _, name := range p.ServiceNames() {
		ref := p.ImageName(name)
		ports, seen := byImage[ref]
		if !seen {
			ins, err := c.ImageInspect(ctx, ref)
			switch {
			case cerrdefs.IsNotFound(err):
				ports = nil
			case err != nil:
				return nil, fmt.Errorf("inspecting image %q of service %q: %w", ref, name, err)
			default:
				ports = exposed(ins)
			}
			byImage[ref] = ports
		}
		f[name] = ports
	}
	return f, nil
}

// localFacts holds the image ports by service name.
type localFacts map[string][]string

func (localFacts) Host(service string) string { return service }

func (f localFacts) ImagePorts(service string) []string { return f[service] }

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

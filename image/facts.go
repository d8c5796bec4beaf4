package image

import (
	"context"
	"fmt"
	"slices"

	cerrdefs "github.com/containerd/errdefs"
	dockerimage "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/stack-deploy/stack/internal/dag"
	"github.com/stack-deploy/stack/manifest"
)

// Inspector is the part of the Docker client Facts uses: *client.Client
// and Client implement it.
type Inspector interface {
	ImageInspect(ctx context.Context, imageID string, inspectOpts ...client.ImageInspectOption) (dockerimage.InspectResponse, error)
}

// inspectParallel bounds the image inspects of one Facts.
const inspectParallel = 8

// Facts are what an engine's images say of the services of a project: their
// EXPOSE ports (envinject's question) and whether they declare a
// HEALTHCHECK (what "ready" means). A service is reachable under its
// service name on every orchestrator stack drives (a network alias, a
// Swarm's DNS, a Kubernetes Service), which Host answers.
type Facts map[string]imageFacts

// Facts inspects, once each, the images of p's services on c, the engine
// that builds and pulls them. An image c does not have yet (not built or
// pulled) has unknown ports and healthcheck; any other inspect failure is
// an error. A nil c stands for no engine at all: every image is unknown.
func InspectFacts(ctx context.Context, c Inspector, p *manifest.Project) (Facts, error) {
	if c == nil {
		return Facts{}, nil
	}
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
	}); client.IsErrConnectionFailed(err) {
		return nil, fmt.Errorf("%w: %w", ErrNoEngine, err)
	} else if err != nil {
		return nil, err
	}
	f := Facts{}
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

// Host is the service's name.
func (Facts) Host(service string) string { return service }

// ImagePorts are the EXPOSE ports of service's image, nil when unknown.
func (f Facts) ImagePorts(service string) []string { return f[service].ports }

// ImageHealthcheck reports whether service's image declares a HEALTHCHECK;
// known is false when the engine does not have the image yet.
func (f Facts) ImageHealthcheck(service string) (has, known bool) {
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

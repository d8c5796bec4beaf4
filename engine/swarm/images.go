package swarm

import (
	"context"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/manifest"
)

// Resolve makes the image of each named service (all when none) one that
// every node pulls by digest, and pins p to them (image.NodeImages).
func (d *Driver) Resolve(ctx context.Context, p *manifest.Project, services []string, o image.EnsureOptions) (map[string]string, error) {
	return d.nodeImages.Resolve(ctx, p, services, o)
}

// Facts answers envinject's questions for a Swarm (a service is reachable
// under its service name, the alias every task has on the overlay networks
// it shares with its dependants) and says which images declare a
// HEALTHCHECK, from the local engine or the registry (image.NodeImages).
func (d *Driver) Facts(ctx context.Context, p *manifest.Project) (engine.Facts, error) {
	return d.nodeImages.Facts(ctx, p)
}

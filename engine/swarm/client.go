package swarm

import (
	"context"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
)

// Client is the subset of the Docker Engine client this package uses: add
// methods here when the driver needs them. *client.Client implements it;
// unit tests embed it in a fake and override what they need.
type Client interface {
	ServiceList(ctx context.Context, options swarm.ServiceListOptions) ([]swarm.Service, error)
	NetworkList(ctx context.Context, options network.ListOptions) ([]network.Summary, error)
	SecretList(ctx context.Context, options swarm.SecretListOptions) ([]swarm.Secret, error)
	ConfigList(ctx context.Context, options swarm.ConfigListOptions) ([]swarm.Config, error)
}

var _ Client = (*client.Client)(nil)

package docker

import (
	"context"
	"fmt"

	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/internal/dockerclient"
	"github.com/stack-deploy/stack/manifest"

	"github.com/stack-deploy/stack/engine"
)

// Driver converges projects on one Docker engine. It implements
// engine.Driver and the capabilities run, exec, logs, ps and the deploy lock.
type Driver struct {
	client Client
	host   string
}

var (
	_ engine.Driver = (*Driver)(nil)
	_ engine.Runner = (*Driver)(nil)
	_ engine.Execer = (*Driver)(nil)
	_ engine.Logger = (*Driver)(nil)
	_ engine.Lister = (*Driver)(nil)
	_ engine.Locker = (*Driver)(nil)
)

// Option configures New.
type Option func(*Driver)

// WithClient makes the driver use c. Default: a client of the engine at
// WithHost's address.
func WithClient(c Client) Option { return func(d *Driver) { d.client = c } }

// WithHost names the engine to connect to: unix://, tcp:// or ssh://.
// Default: the one DOCKER_HOST or the current docker context names.
func WithHost(host string) Option { return func(d *Driver) { d.host = host } }

// New returns a driver, connecting to its engine unless WithClient is given.
func New(opts ...Option) (*Driver, error) {
	d := &Driver{}
	for _, o := range opts {
		o(d)
	}
	if d.client == nil {
		c, err := dockerclient.NewForHost(d.host)
		if err != nil {
			return nil, fmt.Errorf("connecting to the Docker engine: %w", err)
		}
		d.client = c
	}
	return d, nil
}

// Name is "docker".
func (d *Driver) Name() string { return "docker" }

// Facts are what the engine's images say of p's services: see
// image.InspectFacts.
func (d *Driver) Facts(ctx context.Context, p *manifest.Project) (engine.Facts, error) {
	return image.InspectFacts(ctx, d.client, p)
}

// CreateOnly makes plan create and replace containers without starting
// any: the engine creates a container stopped.
func (d *Driver) CreateOnly(plan *engine.Plan) error {
	engine.WithoutStarts(plan)
	return nil
}

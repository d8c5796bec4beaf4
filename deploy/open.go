package deploy

import (
	"fmt"
	"io"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/engine/docker"
	"github.com/stack-deploy/stack/engine/swarm"
	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/internal/dockerclient"
	"github.com/stack-deploy/stack/manifest"
)

// Option configures Open.
type Option func(*openOptions)

type openOptions struct{ orchestrator string }

// WithOrchestrator deploys with the named driver whatever the environment
// says: `--orchestrator`. Default: the environment's orchestrator, else
// docker.
func WithOrchestrator(name string) Option { return func(o *openOptions) { o.orchestrator = name } }

// openers connect to an environment's engine (its host:, "" for DOCKER_HOST
// or the current docker context; a cluster's context:) with one
// orchestrator's driver: adding a driver is adding its opener here.
var openers = map[string]func(env manifest.Environment) (*Target, error){
	manifest.OrchestratorDocker:     func(env manifest.Environment) (*Target, error) { return openDocker(env.Host) },
	manifest.OrchestratorSwarm:      func(env manifest.Environment) (*Target, error) { return openSwarm(env.Host) },
	manifest.OrchestratorKubernetes: openKube,
}

// Open connects to the engine p's environment names with its
// orchestrator's driver. One Target serves a whole verb.
func Open(p *manifest.Project, opts ...Option) (*Target, error) {
	var o openOptions
	for _, opt := range opts {
		opt(&o)
	}
	env := manifest.Environment{}
	if p.Env != nil {
		env = p.Env.Environment
		if o.orchestrator == "" {
			o.orchestrator = p.Env.Orchestrator
		}
	}
	if err := manifest.ValidOrchestrator(o.orchestrator); err != nil {
		return nil, err
	}
	if o.orchestrator == "" {
		o.orchestrator = manifest.OrchestratorDocker
	}
	open, ok := openers[o.orchestrator]
	if !ok {
		return nil, fmt.Errorf("orchestrator %q: no driver opens it", o.orchestrator)
	}
	return open(env)
}

// openDocker deploys to one engine, which also builds.
func openDocker(host string) (*Target, error) {
	c, err := dockerclient.NewForHost(host)
	if err != nil {
		return nil, fmt.Errorf("connecting to the Docker engine: %w", err)
	}
	t := &Target{closers: []io.Closer{c}}
	if t.Driver, err = docker.New(docker.WithClient(c)); err != nil {
		t.Close()
		return nil, err
	}
	if t.Builder, err = image.New(image.WithClient(c)); err != nil {
		t.Close()
		return nil, err
	}
	t.ensure = t.Builder.Ensure
	return t, nil
}

// openSwarm deploys through the Swarm manager at host, while images are
// built on the local engine (DOCKER_HOST or the docker context, as for
// docker build) and pushed to the registry the nodes pull from, by digest:
// a manager is no build machine, and may be remote.
func openSwarm(host string) (*Target, error) {
	local, err := dockerclient.New()
	if err != nil {
		return nil, fmt.Errorf("connecting to the Docker engine that builds: %w", err)
	}
	t := &Target{closers: []io.Closer{local}}
	manager := local
	if host != "" {
		if manager, err = dockerclient.NewForHost(host); err != nil {
			t.Close()
			return nil, fmt.Errorf("connecting to the Swarm manager: %w", err)
		}
		t.closers = append(t.closers, manager)
	}
	if t.Builder, err = image.New(image.WithClient(local)); err != nil {
		t.Close()
		return nil, err
	}
	d, err := swarm.New(swarm.WithClient(manager), swarm.WithImages(t.Builder, local), swarm.WithNodeStats(nodeStats))
	if err != nil {
		t.Close()
		return nil, err
	}
	t.Driver, t.ensure = d, d.Resolve
	return t, nil
}

// nodeStats reads a Swarm node's own engine as the Docker driver reads one
// engine, for the Swarm driver's stats.
func nodeStats(c swarm.Client) (engine.StatsReader, error) {
	dc, ok := c.(docker.Client)
	if !ok {
		return nil, fmt.Errorf("a %T is no Docker engine client", c)
	}
	return docker.New(docker.WithClient(dc))
}

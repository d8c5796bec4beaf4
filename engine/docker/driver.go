package docker

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"

	"github.com/stack-deploy/stack/engine"
)

// Driver converges projects on one Docker engine. It implements engine.Driver.
type Driver struct {
	client Client
}

var _ engine.Driver = (*Driver)(nil)

// Option configures New.
type Option func(*Driver)

// WithClient makes the driver use c. Default: NewClient(), the engine the
// environment names.
func WithClient(c Client) Option { return func(d *Driver) { d.client = c } }

// New returns a driver, connecting to the environment's engine unless
// WithClient is given.
func New(opts ...Option) (*Driver, error) {
	d := &Driver{}
	for _, o := range opts {
		o(d)
	}
	if d.client == nil {
		c, err := NewClient()
		if err != nil {
			return nil, fmt.Errorf("connecting to the Docker engine: %w", err)
		}
		d.client = c
	}
	return d, nil
}

// Observe lists the project's containers, networks and volumes by label,
// with one call each, concurrently.
func (d *Driver) Observe(ctx context.Context, project string) (*engine.Observed, error) {
	var (
		obs              engine.Observed
		wg               sync.WaitGroup
		cerr, nerr, verr error
		cs               []container.Summary
		ns               []network.Summary
		vs               volume.ListResponse
	)
	f := ProjectFilter(project)
	wg.Add(3)
	go func() {
		defer wg.Done()
		cs, cerr = d.client.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	}()
	go func() { defer wg.Done(); ns, nerr = d.client.NetworkList(ctx, network.ListOptions{Filters: f}) }()
	go func() { defer wg.Done(); vs, verr = d.client.VolumeList(ctx, volume.ListOptions{Filters: f}) }()
	wg.Wait()
	if err := errors.Join(cerr, nerr, verr); err != nil {
		return nil, fmt.Errorf("observing project %q: %w", project, err)
	}
	for _, c := range cs {
		obs.Containers = append(obs.Containers, observedContainer(c))
	}
	for _, n := range ns {
		key := n.Labels[engine.LabelNetwork]
		if key == "" {
			key = n.Name
		}
		obs.Networks = append(obs.Networks, engine.Resource{Key: key, Name: n.Name, ID: n.ID, Hash: n.Labels[engine.LabelConfigHash]})
	}
	for _, v := range vs.Volumes {
		key := v.Labels[engine.LabelVolume]
		if key == "" {
			key = v.Name
		}
		obs.Volumes = append(obs.Volumes, engine.Resource{Key: key, Name: v.Name, Hash: v.Labels[engine.LabelConfigHash]})
	}
	return &obs, nil
}

var exitedRe = regexp.MustCompile(`^Exited \((-?\d+)\)`)

// observedContainer reads a listed container: the list's Status text is the
// only place it carries health and exit code without an inspect per container.
func observedContainer(c container.Summary) engine.Container {
	oc := engine.Container{
		ID:      c.ID,
		Service: c.Labels[engine.LabelService],
		OneOff:  c.Labels[engine.LabelOneoff] == "true",
		Hash:    c.Labels[engine.LabelConfigHash],
		Parts:   c.Labels[engine.LabelConfigParts],
		State:   string(c.State),
	}
	if len(c.Names) > 0 {
		oc.Name = strings.TrimPrefix(c.Names[0], "/")
	}
	oc.Number, _ = strconv.Atoi(c.Labels[engine.LabelContainerNumber])
	switch {
	case strings.Contains(c.Status, "(healthy)"):
		oc.Health = "healthy"
	case strings.Contains(c.Status, "(unhealthy)"):
		oc.Health = "unhealthy"
	case strings.Contains(c.Status, "(health: starting)"):
		oc.Health = "starting"
	}
	if m := exitedRe.FindStringSubmatch(c.Status); m != nil {
		oc.ExitCode, _ = strconv.Atoi(m[1])
	}
	return oc
}

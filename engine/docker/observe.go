package docker

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"golang.org/x/sync/errgroup"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
)

// inspectParallel bounds the inspects of one Observe (containers) or Facts
// (images) made at once.
const inspectParallel = 8

// Observe reads what the engine holds for p's project: its containers by
// label, stack's and Docker Compose's (each inspected for the aliases it has
// on its networks, which the list leaves out), and the networks and volumes
// that carry either label or, without one, the name of one of its own (made
// by hand, or by another tool), in one call each, concurrently.
func (d *Driver) Observe(ctx context.Context, p *manifest.Project) (*engine.Observed, error) {
	var (
		cs, ccs []container.Summary
		ns      []network.Summary
		vs      volume.ListResponse
	)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) {
		cs, err = d.client.ContainerList(gctx, container.ListOptions{All: true, Filters: ProjectFilter(p.Name)})
		return err
	})
	g.Go(func() (err error) {
		ccs, err = d.client.ContainerList(gctx, container.ListOptions{All: true, Filters: composeFilter(p.Name)})
		return err
	})
	g.Go(func() (err error) { ns, err = d.client.NetworkList(gctx, network.ListOptions{}); return err })
	g.Go(func() (err error) { vs, err = d.client.VolumeList(gctx, volume.ListOptions{}); return err })
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("observing project %q: %w", p.Name, err)
	}
	ours := map[string]bool{}
	var containers []engine.Container
	var gateway *engine.Gateway
	for _, c := range cs {
		ours[c.ID] = true
		if c.Labels[LabelGateway] == "true" {
			gateway = d.observeGateway(ctx, p, c)
			continue
		}
		containers = append(containers, observedContainer(p, c))
	}
	for _, c := range ccs {
		if !ours[c.ID] {
			oc := observedContainer(p, composeLabels(c))
			oc.Compose = true
			containers = append(containers, oc)
		}
	}
	if err := d.aliases(ctx, containers); err != nil {
		return nil, fmt.Errorf("observing project %q: %w", p.Name, err)
	}
	obs := observed(p, containers)
	obs.Gateway = gateway
	netKeys, volKeys := map[string]string{}, map[string]string{}
	for k, n := range p.Project.Networks {
		if !bool(n.External) {
			netKeys[n.Name] = k
		}
	}
	for k, v := range p.Project.Volumes {
		if !bool(v.External) {
			volKeys[v.Name] = k
		}
	}
	for _, n := range ns {
		if r, ok := resource(p.Name, n.Name, n.ID, n.Labels, engine.LabelNetwork, composeNetwork, netKeys); ok {
			r.Created = n.Created
			obs.Networks = append(obs.Networks, r)
		}
	}
	for _, v := range vs.Volumes {
		if r, ok := resource(p.Name, v.Name, "", v.Labels, engine.LabelVolume, composeVolume, volKeys); ok {
			obs.Volumes = append(obs.Volumes, r)
		}
	}
	return obs, nil
}

// resource reads a listed network or volume: the project's when it carries
// the project's label (keyLabel, composeKey: the labels holding its compose
// key, stack's and Compose's), Docker Compose's for the project when it
// carries Compose's project label, foreign when it carries neither but has
// the name of one of its own (keys: engine name -> compose key), else not
// the project's.
func resource(project, name, id string, labels map[string]string, keyLabel, composeKey string, keys map[string]string) (engine.Resource, bool) {
	key := func(label string) string {
		if k := labels[label]; k != "" {
			return k
		}
		return name
	}
	switch project {
	case labels[engine.LabelProject]:
		return engine.Resource{Key: key(keyLabel), Name: name, ID: id, Hash: labels[engine.LabelConfigHash]}, true
	case labels[composeProject]:
		return engine.Resource{Key: key(composeKey), Name: name, ID: id, Compose: true}, true
	}
	if key, ok := keys[name]; ok {
		return engine.Resource{Key: key, Name: name, ID: id, Foreign: true}, true
	}
	return engine.Resource{}, false
}

var exitedRe = regexp.MustCompile(`^Exited \((-?\d+)\)`)

// observedContainer reads a listed container: the list's Status text is the
// only place it carries health and exit code without an inspect.
func observedContainer(p *manifest.Project, c container.Summary) engine.Container {
	oc := engine.Container{
		ID:      c.ID,
		Service: c.Labels[engine.LabelService],
		OneOff:  c.Labels[engine.LabelOneoff] == "true",
		Hash:    c.Labels[engine.LabelConfigHash],
		Parts:   c.Labels[engine.LabelConfigParts],
		State:   string(c.State),
		Created: time.Unix(c.Created, 0),
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
	if !oc.OneOff && p != nil {
		oc.Temporary = oc.Name != canonicalName(p, oc.Service, oc.Number)
	}
	if c.NetworkSettings != nil {
		oc.Networks = map[string]engine.Endpoint{}
		for name, ep := range c.NetworkSettings.Networks {
			if ep != nil {
				oc.Networks[name] = engine.Endpoint{NetworkID: ep.NetworkID}
			}
		}
	}
	for _, m := range c.Mounts {
		if m.Type != mount.TypeVolume {
			continue
		}
		oc.Volumes = append(oc.Volumes, m.Name)
		if anonymous.MatchString(m.Name) {
			oc.Anonymous = append(oc.Anonymous, engine.Mount{Name: m.Name, Target: m.Destination})
		}
	}
	return oc
}

// canonicalName is the name replica number of service has when no
// replacement is under way.
func canonicalName(p *manifest.Project, service string, number int) string {
	if s, ok := p.Project.Services[service]; ok && s.ContainerName != "" {
		return s.ContainerName
	}
	return ContainerName(p.Name, service, number)
}

// aliases reads, by inspecting each service container, the aliases it has
// on its networks: the list gives the networks only. A container removed
// meanwhile keeps what the list said.
func (d *Driver) aliases(ctx context.Context, cs []engine.Container) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(inspectParallel)
	for i := range cs {
		c := &cs[i]
		if c.OneOff || len(c.Networks) == 0 {
			continue
		}
		g.Go(func() error {
			ins, err := d.client.ContainerInspect(gctx, c.ID)
			if cerrdefs.IsNotFound(err) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("inspecting container %q: %w", c.Name, err)
			}
			if ins.NetworkSettings == nil {
				return nil
			}
			for name, ep := range ins.NetworkSettings.Networks {
				if e, ok := c.Networks[name]; ok && ep != nil {
					e.Aliases = append([]string{}, ep.Aliases...)
					c.Networks[name] = e
				}
			}
			return nil
		})
	}
	err := g.Wait()
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// observeGateway reads the project's gateway container and the hash of the
// routes it was last loaded with.
func (d *Driver) observeGateway(ctx context.Context, p *manifest.Project, c container.Summary) *engine.Gateway {
	oc := observedContainer(p, c)
	oc.Service, oc.Temporary = "", oc.Name != GatewayName(p.Name)
	g := &engine.Gateway{Container: oc}
	if rf := readRoutes(ctx, d.client, c.ID); rf != nil {
		g.RoutesHash = rf.RoutesHash
	}
	return g
}

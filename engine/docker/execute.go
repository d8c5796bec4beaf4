package docker

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/api/types/volume"

	"github.com/stack-deploy/stack/engine"
)

// cleanupTimeout bounds the engine calls made after the run's context is
// done: reading logs for an error, removing a one-off container.
const cleanupTimeout = 30 * time.Second

// executor makes the calls of one plan's operations; it implements
// engine.Executor.
type executor struct {
	client     Client
	plan       *engine.Plan
	opts       engine.ApplyOptions
	apiVersion string
	begun      time.Time

	watchOnce sync.Once
	watch     *watcher

	gwOnce sync.Once
	gw     *gatewayRun
}

// Begin opens a run of plan's operations. The project's container events are
// watched from this moment on (subscribing lazily, at the first wait, with
// the engine replaying what happened since), so no readiness change is
// missed and a run that waits for nothing opens no event stream.
func (d *Driver) Begin(ctx context.Context, plan *engine.Plan, o engine.ApplyOptions) (engine.Executor, error) {
	d.client.NegotiateAPIVersion(ctx)
	return &executor{client: d.client, plan: plan, opts: o, apiVersion: d.client.ClientVersion(), begun: time.Now()}, nil
}

// Close stops watching events.
func (x *executor) Close() error {
	x.watchOnce.Do(func() {}) // no watcher starts after Close
	if x.watch != nil {
		x.watch.stop()
	}
	return nil
}

// watcher returns the run's event watcher, subscribing on first use; ctx
// must outlive the run (the walker's context does).
func (x *executor) watcher(ctx context.Context) *watcher {
	x.watchOnce.Do(func() { x.watch = watch(ctx, x.client, x.plan.Project, x.begun) })
	return x.watch
}

// Execute makes the call op names.
func (x *executor) Execute(ctx context.Context, op *engine.Op, _ engine.Notes) error {
	switch p := op.Payload.(type) {
	case *createNetwork:
		return x.createNetwork(ctx, p.key)
	case *createVolume:
		return x.createVolume(ctx, p.key)
	case *removeResource:
		var err error
		if p.typ == "network" {
			err = x.client.NetworkRemove(ctx, p.r.ID)
		} else {
			err = x.client.VolumeRemove(ctx, p.r.Name, false)
		}
		switch {
		case err == nil || (p.gone && cerrdefs.IsNotFound(err)):
			return nil
		case p.typ == "network" && strings.Contains(err.Error(), "has active endpoints"):
			return fmt.Errorf("removing network %q: %w: a container stack does not remove is connected to it (docker network inspect %s: "+
				"an orphan, which --remove-orphans removes, or another project's), or the engine kept the endpoint of a connect that was "+
				"interrupted (kill -9 of a run; Docker 20.10 does), which restarting the engine clears",
				p.r.Name, err, p.r.Name)
		}
		return fmt.Errorf("removing %s %q: %w", p.typ, p.r.Name, err)
	case *removeImage:
		_, err := x.client.ImageRemove(ctx, p.ref, image.RemoveOptions{PruneChildren: true})
		if err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("removing image %q: %w", p.ref, err)
		}
		return nil
	case *createContainer:
		return x.createContainer(ctx, p)
	case *copyFiles:
		return x.copyFiles(ctx, p)
	case *connect:
		return x.connect(ctx, p)
	case *containerCall:
		return x.call(ctx, p)
	case *waitContainer:
		return x.waitReady(ctx, p.service, p.container, p.cond, p.monitor)
	case *leave:
		return x.leave(ctx, p)
	case *pause:
		select {
		case <-time.After(p.d):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	case *createGateway:
		return x.createGateway(ctx, p.name)
	case *configure:
		return x.gatewayState().configure(ctx, x, p.name)
	case *route:
		return x.gatewayState().route(ctx, x, p)
	case *drain:
		return x.gatewayState().drain(ctx, x, p)
	case nil:
		if op.Kind == engine.OpCommit {
			return nil // a point in the graph, no call
		}
	}
	return fmt.Errorf("operation %q: the Docker driver has no call for it", op.ID)
}

// labels are the user's labels on a network or volume plus stack's: the
// project, the resource's key in the compose file under label, and the hash
// of its definition.
func (x *executor) labels(label, key, hash string, user map[string]string) map[string]string {
	labels := map[string]string{engine.LabelProject: x.plan.Project, label: key, engine.LabelConfigHash: hash}
	for k, v := range user {
		if _, ours := labels[k]; !ours {
			labels[k] = v
		}
	}
	return labels
}

func (x *executor) createNetwork(ctx context.Context, key string) error {
	cfg := x.plan.Desired.Project.Networks[key]
	a := x.plan.Action("network:" + key)
	opts := network.CreateOptions{
		Driver:     cfg.Driver,
		Options:    cfg.DriverOpts,
		Internal:   cfg.Internal,
		Attachable: cfg.Attachable,
		Labels:     x.labels(engine.LabelNetwork, key, a.ConfigHash, cfg.Labels),
		EnableIPv6: cfg.EnableIPv6,
	}
	if versions.GreaterThanOrEqualTo(x.apiVersion, "1.47") {
		opts.EnableIPv4 = cfg.EnableIPv4
	}
	if cfg.Ipam.Driver != "" || len(cfg.Ipam.Config) > 0 {
		opts.IPAM = &network.IPAM{Driver: cfg.Ipam.Driver}
		for _, p := range cfg.Ipam.Config {
			opts.IPAM.Config = append(opts.IPAM.Config, network.IPAMConfig{Subnet: p.Subnet, IPRange: p.IPRange, Gateway: p.Gateway, AuxAddress: p.AuxiliaryAddresses})
		}
	}
	if _, err := x.client.NetworkCreate(ctx, cfg.Name, opts); err != nil {
		return fmt.Errorf("creating network %q: %w", cfg.Name, err)
	}
	return nil
}

func (x *executor) createVolume(ctx context.Context, key string) error {
	cfg := x.plan.Desired.Project.Volumes[key]
	a := x.plan.Action("volume:" + key)
	labels := x.labels(engine.LabelVolume, key, a.ConfigHash, cfg.Labels)
	if _, err := x.client.VolumeCreate(ctx, volume.CreateOptions{Name: cfg.Name, Driver: cfg.Driver, DriverOpts: cfg.DriverOpts, Labels: labels}); err != nil {
		return fmt.Errorf("creating volume %q: %w", cfg.Name, err)
	}
	return nil
}

// createContainer creates a replica from its finished spec.
func (x *executor) createContainer(ctx context.Context, p *createContainer) error {
	sp := p.spec
	if _, err := x.client.ContainerCreate(ctx, sp.config, sp.host, sp.network, nil, p.name); err != nil {
		return fmt.Errorf("creating container %q: %w", p.name, err)
	}
	return nil
}

// connect attaches a container to a network with the endpoint settings its
// spec gives there.
func (x *executor) connect(ctx context.Context, p *connect) error {
	if p.disconnect {
		if err := x.client.NetworkDisconnect(ctx, p.network, p.container, true); err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("disconnecting container %q from network %q: %w", p.container, p.network, err)
		}
	}
	ep := p.endpoint
	if ep == nil {
		ep = &network.EndpointSettings{}
	}
	if err := x.client.NetworkConnect(ctx, p.network, p.container, ep); err != nil {
		return fmt.Errorf("connecting container %q to network %q: %w", p.container, p.network, err)
	}
	return nil
}

// call makes a call on one container. Stopping and removing one that is
// already gone, and starting one that runs, are fine: an undo may find
// its work done.
func (x *executor) call(ctx context.Context, p *containerCall) error {
	var err error
	switch p.kind {
	case engine.OpStart:
		err = x.client.ContainerStart(ctx, p.ref, container.StartOptions{})
	case engine.OpUnpause:
		err = x.client.ContainerUnpause(ctx, p.ref)
	case engine.OpRestart:
		err = x.client.ContainerRestart(ctx, p.ref, container.StopOptions{})
	case engine.OpStop:
		err = x.client.ContainerStop(ctx, p.ref, container.StopOptions{})
	case engine.OpRemove:
		return x.remove(ctx, p)
	case engine.OpRename:
		err = x.client.ContainerRename(ctx, p.ref, p.newName)
	}
	if err != nil && !(cerrdefs.IsNotFound(err) && p.kind == engine.OpStop) {
		return fmt.Errorf("%s container %q: %w", gerund(p.kind), p.display(), err)
	}
	return nil
}

// remove removes a container, stopping it at once if it still runs, and
// with volumes also the anonymous volumes it mounts: those handed on from a
// replaced container are mounted by name, so RemoveVolumes alone leaves them.
func (x *executor) remove(ctx context.Context, p *containerCall) error {
	var anon []string
	if p.volumes {
		ins, err := x.client.ContainerInspect(ctx, p.ref)
		if err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("inspecting container %q: %w", p.display(), err)
		}
		for _, m := range ins.Mounts {
			if m.Type == mount.TypeVolume && anonymous.MatchString(m.Name) {
				anon = append(anon, m.Name)
			}
		}
	}
	if p.keepLogs {
		// Never worth failing a replacement for: logs --previous then says
		// it has nothing.
		_ = savePrevious(ctx, x.client, x.plan.Project, p.ref)
	}
	err := x.client.ContainerRemove(ctx, p.ref, container.RemoveOptions{Force: true, RemoveVolumes: p.volumes})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("removing container %q: %w", p.display(), err)
	}
	for _, v := range anon {
		if err := x.client.VolumeRemove(ctx, v, false); err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("removing anonymous volume %s of container %q: %w", v, p.display(), err)
		}
	}
	return nil
}

func (p *containerCall) display() string {
	if p.name != "" {
		return p.name
	}
	return p.ref
}

func gerund(k engine.OpKind) string {
	switch k {
	case engine.OpStop:
		return "stopping"
	case engine.OpRename:
		return "renaming"
	case engine.OpUnpause:
		return "unpausing"
	case engine.OpRestart:
		return "restarting"
	}
	return "starting"
}

package docker

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/gateway"
)

// drainTimeout bounds how long a container taken off the gateway may take
// to finish the requests under way on it.
const drainTimeout = 30 * time.Second

// gatewayRun is one run's view of the gateway: which containers receive
// each routed service's traffic. It starts from what the engine held (the
// running containers of the routed services), and route operations change
// it one at a time, each loading the whole config into the gateway.
type gatewayRun struct {
	mu      sync.Mutex
	loaded  bool
	serving map[string][]string // service -> container IDs
}

func (x *executor) gatewayState() *gatewayRun {
	x.gwOnce.Do(func() { x.gw = &gatewayRun{serving: map[string][]string{}} })
	return x.gw
}

// load fills serving from what was observed, once.
func (g *gatewayRun) load(x *executor) {
	if g.loaded {
		return
	}
	g.loaded = true
	m := x.plan.Desired
	oc, _ := x.plan.Observed.Driver.(*observedContainers)
	if oc == nil {
		return
	}
	for _, c := range oc.containers {
		if c.OneOff || c.Temporary || !c.Running() || c.Health == "unhealthy" || len(m.Services[c.Service].Route) == 0 {
			continue
		}
		g.serving[c.Service] = append(g.serving[c.Service], c.ID)
	}
}

// route changes who serves p.service (resolving names to IDs: a rename
// changes the name, not the ID) and loads the routes into the gateway.
func (g *gatewayRun) route(ctx context.Context, x *executor, p *route) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.load(x)
	if p.service != "" {
		ids := g.serving[p.service]
		for _, ref := range p.remove {
			if id, err := containerID(ctx, x.client, ref); err == nil {
				ids = slices.DeleteFunc(ids, func(s string) bool { return s == id })
			}
		}
		for _, ref := range p.add {
			id, err := containerID(ctx, x.client, ref)
			if err != nil {
				return fmt.Errorf("routing service %q to container %q: %w", p.service, ref, err)
			}
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		g.serving[p.service] = ids
	}
	name := GatewayName(x.plan.Project)
	if err := g.write(ctx, x, name); err != nil {
		return err
	}
	out, code, err := runIn(ctx, x.client, name, []string{"caddy", "reload", "--config", gatewayConfig})
	if err != nil {
		return fmt.Errorf("loading the routes into the gateway: %w", err)
	}
	if code != 0 {
		return fmt.Errorf("loading the routes into the gateway: caddy reload exited with code %d: %s", code, strings.TrimSpace(out))
	}
	return nil
}

// configure writes the routes into a gateway container not started yet.
func (g *gatewayRun) configure(ctx context.Context, x *executor, name string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.load(x)
	return g.write(ctx, x, name)
}

// write renders Caddy's config and stack's routes file and copies both
// into the gateway container name.
func (g *gatewayRun) write(ctx context.Context, x *executor, name string) error {
	spec := x.plan.Gateway
	if spec == nil {
		return nil
	}
	upstreams := map[string][]string{}
	for service, ids := range g.serving {
		for _, id := range ids {
			// One that stopped meanwhile (a stop-first replacement of its
			// sibling) has no address: it gets no traffic until it has.
			if addr, err := address(ctx, x.client, id, spec.Networks); err == nil {
				upstreams[service] = append(upstreams[service], addr)
			}
		}
	}
	cfg, err := gateway.Config(x.plan.Desired.Stack.Gateway, x.plan.Desired.GatewayRoutes(), upstreams)
	if err != nil {
		return err
	}
	names := map[string][]string{}
	for _, r := range x.plan.Desired.GatewayRoutes() {
		names[r.Service] = append(names[r.Service], r.Host+cmp.Or(r.Path, "/"))
	}
	routes, err := json.Marshal(routesFile{RoutesHash: spec.RoutesHash, Serving: g.serving, Routes: names})
	if err != nil {
		return err
	}
	mode := types.FileMode(0o644)
	files := []engine.FileSource{
		{Kind: "config", Key: "gateway", Target: gatewayConfig, Content: engine.Sensitive(cfg), Mode: &mode},
		{Kind: "config", Key: "gateway routes", Target: gatewayRoutes, Content: engine.Sensitive(routes), Mode: &mode},
	}
	if err := copyInto(ctx, x.client, name, files); err != nil {
		return fmt.Errorf("loading the gateway's routes: %w", err)
	}
	return nil
}

// drain waits until the gateway has no request under way on p's container
// (or it no longer lists it), bounded by drainTimeout.
func (g *gatewayRun) drain(ctx context.Context, x *executor, p *drain) error {
	spec := x.plan.Gateway
	if spec == nil {
		return nil
	}
	addr, err := address(ctx, x.client, p.container, spec.Networks)
	if err != nil {
		return nil //nolint:nilerr // gone or off the networks: nothing under way on it
	}
	ctx, cancel := context.WithTimeout(ctx, drainTimeout)
	defer cancel()
	for {
		out, code, err := runIn(ctx, x.client, GatewayName(x.plan.Project), []string{"wget", "-qO-", "http://localhost:2019/reverse_proxy/upstreams"})
		if err == nil && code == 0 && !busy(out, addr+":") {
			return nil
		}
		select {
		case <-ctx.Done():
			if context.Cause(ctx) == context.DeadlineExceeded {
				return nil // it had its time: the stop's grace period is next
			}
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// busy reports whether Caddy's upstream list (its admin API's JSON) has a
// request under way on an address starting with prefix.
func busy(upstreams, prefix string) bool {
	var list []struct {
		Address     string `json:"address"`
		NumRequests int    `json:"num_requests"`
	}
	if json.Unmarshal([]byte(upstreams), &list) != nil {
		return true
	}
	for _, u := range list {
		if strings.HasPrefix(u.Address, prefix) && u.NumRequests > 0 {
			return true
		}
	}
	return false
}

// containerID resolves a container's name or ID to its ID.
func containerID(ctx context.Context, c Client, ref string) (string, error) {
	ins, err := c.ContainerInspect(ctx, ref)
	if err != nil {
		return "", err
	}
	return ins.ID, nil
}

// address is container id's address on the first of networks it is on.
func address(ctx context.Context, c Client, id string, networks []string) (string, error) {
	ins, err := c.ContainerInspect(ctx, id)
	if err != nil {
		return "", fmt.Errorf("inspecting container %s: %w", shortID(id), err)
	}
	if ins.NetworkSettings != nil {
		for _, n := range networks {
			if ep, ok := ins.NetworkSettings.Networks[n]; ok && ep != nil && ep.IPAddress != "" {
				return ep.IPAddress, nil
			}
		}
	}
	return "", fmt.Errorf("container %s has no address on the gateway's networks %v", strings.TrimPrefix(ins.Name, "/"), networks)
}

// runIn runs cmd in a running container and returns its output and exit
// code.
func runIn(ctx context.Context, c Client, name string, cmd []string) (string, int, error) {
	created, err := c.ContainerExecCreate(ctx, name, container.ExecOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		return "", 0, err
	}
	hijack, err := c.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		return "", 0, err
	}
	defer hijack.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, hijack.Reader); err != nil {
		return "", 0, err
	}
	code, err := execExitCode(ctx, c, created.ID, name)
	return out.String(), code, err
}

// leave takes a container off its networks, so the names it answers to
// resolve to the others only; rejoin puts it back with its aliases.
func (x *executor) leave(ctx context.Context, p *leave) error {
	for _, n := range p.networks {
		var err error
		if p.rejoin {
			err = x.connect(ctx, &connect{container: p.container, network: n, endpoint: p.endpoints[n]})
		} else if err = x.client.NetworkDisconnect(ctx, n, p.container, false); cerrdefs.IsNotFound(err) {
			err = nil
		}
		if err != nil {
			return fmt.Errorf("taking container %q off network %q: %w", p.name, n, err)
		}
	}
	return nil
}

// createGateway creates the project's gateway container as name.
func (x *executor) createGateway(ctx context.Context, name string) error {
	sp, err := gatewaySpec(x.plan.Project, x.plan.Gateway, x.plan.Action(engine.GatewayResource).ConfigHash)
	if err != nil {
		return err
	}
	// Made with the project's label, or the engine would make it bare when
	// the container mounts it: down -v removes what carries the label.
	v := gatewayVolume(x.plan.Project)
	if _, err := x.client.VolumeCreate(ctx, volume.CreateOptions{Name: v, Labels: map[string]string{engine.LabelProject: x.plan.Project}}); err != nil {
		return fmt.Errorf("creating the gateway's volume %q: %w", v, err)
	}
	if _, err := x.client.ContainerCreate(ctx, sp.config, sp.host, sp.network, nil, name); err != nil {
		return fmt.Errorf("creating the gateway container %q: %w", name, err)
	}
	return nil
}

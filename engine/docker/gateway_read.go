package docker

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/gateway"
)

var _ engine.GatewayReader = (*Driver)(nil)

// RouteMetrics reads Caddy's metrics from its admin API, through exec in
// the running gateway (as the drain does; the admin API listens on the
// container's loopback only).
func (d *Driver) RouteMetrics(ctx context.Context, project string) ([]gateway.RouteCounters, error) {
	id, running, err := d.gatewayContainer(ctx, project)
	if err != nil || id == "" || !running {
		return nil, err
	}
	out, code, err := runIn(ctx, d.client, id, []string{"wget", "-qO-", "http://" + gateway.AdminAddress + "/metrics"})
	if err != nil {
		return nil, fmt.Errorf("reading the gateway's metrics: %w", err)
	}
	if code != 0 {
		return nil, fmt.Errorf("reading the gateway's metrics: wget exited with code %d: %s", code, strings.TrimSpace(out))
	}
	return gateway.ParseMetrics(strings.NewReader(out))
}

// GatewayCA copies the internal CA's root certificate out of the gateway's
// container (its /data volume keeps it across replacements).
func (d *Driver) GatewayCA(ctx context.Context, project string) ([]byte, error) {
	id, _, err := d.gatewayContainer(ctx, project)
	if err != nil {
		return nil, err
	}
	if id == "" {
		return nil, fmt.Errorf("project %q: %w container", project, engine.ErrNoGateway)
	}
	rc, _, err := d.client.CopyFromContainer(ctx, id, gateway.CAPath)
	if cerrdefs.IsNotFound(err) {
		return nil, fmt.Errorf("project %q: the gateway has no internal CA (x-stack.gateway.tls: internal makes one): %w", project, engine.ErrNoGateway)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the gateway's CA certificate: %w", err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	if _, err := tr.Next(); err != nil {
		return nil, fmt.Errorf("reading the gateway's CA certificate: %w", err)
	}
	return io.ReadAll(io.LimitReader(tr, 1<<20))
}

// gatewayContainer finds project's gateway container: its ID ("" when it
// has none) and whether it runs.
func (d *Driver) gatewayContainer(ctx context.Context, project string) (string, bool, error) {
	f := ProjectFilter(project)
	f.Add("label", LabelGateway+"=true")
	cs, err := d.client.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return "", false, fmt.Errorf("listing the gateway of project %q: %w", project, err)
	}
	// Its own name, else one under a temporary name (a replacement under
	// way), a running one first.
	id, running := "", false
	for _, c := range cs {
		exact := slices.Contains(c.Names, "/"+GatewayName(project))
		if exact || id == "" || (!running && c.State == "running") {
			id, running = c.ID, c.State == "running"
		}
		if exact {
			break
		}
	}
	return id, running, nil
}

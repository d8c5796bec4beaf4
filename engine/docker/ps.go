package docker

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/stack-deploy/stack/engine"
)

// Ps lists the project's containers (stopped ones too with all), one-offs
// included, sorted by service and number, with their published ports and
// the time each running one started.
func (d *Driver) Ps(ctx context.Context, project string, all bool) ([]engine.Status, error) {
	cs, err := d.client.ContainerList(ctx, container.ListOptions{All: all, Filters: ProjectFilter(project)})
	if err != nil {
		return nil, fmt.Errorf("listing containers of project %q: %w", project, err)
	}
	out := make([]engine.Status, 0, len(cs))
	var routes *routesFile
	for _, c := range cs {
		if c.Labels[LabelGateway] == "true" && c.State == "running" {
			routes = readRoutes(ctx, d.client, c.ID)
		}
	}
	for _, c := range cs {
		st := engine.Status{Container: observedContainer(nil, c), Image: c.Image, Ports: portList(c.Ports)}
		switch {
		case c.Labels[LabelGateway] == "true":
			st.Traffic = []string{"gateway"}
		case routes != nil && slices.Contains(routes.Serving[st.Service], c.ID):
			st.Traffic = routes.Routes[st.Service]
		}
		if st.Running() {
			ins, err := d.client.ContainerInspect(ctx, c.ID)
			if err != nil {
				return nil, fmt.Errorf("inspecting container %q: %w", st.Name, err)
			}
			if ins.State != nil {
				st.Started, _ = time.Parse(time.RFC3339Nano, ins.State.StartedAt)
			}
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		if out[i].OneOff != out[j].OneOff {
			return !out[i].OneOff
		}
		return out[i].Number < out[j].Number
	})
	return out, nil
}

// portList renders a container's ports as docker ps does, without the
// duplicate IPv6 bindings, sorted.
func portList(ps []container.Port) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range ps {
		s := fmt.Sprintf("%d/%s", p.PrivatePort, p.Type)
		if p.PublicPort != 0 {
			ip := p.IP
			if ip == "" || ip == "::" {
				ip = "0.0.0.0"
			}
			if strings.Contains(ip, ":") {
				ip = "[" + ip + "]"
			}
			s = fmt.Sprintf("%s:%d->%s", ip, p.PublicPort, s)
		}
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// containers lists the project's containers, one-offs included, without
// what Observe reads beyond the list.
func (d *Driver) containers(ctx context.Context, project string) ([]engine.Container, error) {
	cs, err := d.client.ContainerList(ctx, container.ListOptions{All: true, Filters: ProjectFilter(project)})
	if err != nil {
		return nil, fmt.Errorf("listing containers of project %q: %w", project, err)
	}
	out := make([]engine.Container, 0, len(cs))
	for _, c := range cs {
		out = append(out, observedContainer(nil, c))
	}
	return out, nil
}

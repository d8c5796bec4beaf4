package swarm

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"

	"github.com/stack-deploy/stack/engine"
)

// tasks lists the project's services (by ID) and tasks, those meant to run
// only unless all, and names the nodes (by ID).
func (d *Driver) tasks(ctx context.Context, project string, all bool) (map[string]swarm.Service, []swarm.Task, map[string]swarm.Node, error) {
	f := ProjectFilter(project)
	services, err := d.client.ServiceList(ctx, swarm.ServiceListOptions{Filters: f})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("listing the services of %q: %w", project, err)
	}
	tf := ProjectFilter(project)
	if !all {
		tf.Add("desired-state", string(swarm.TaskStateRunning))
	}
	tasks, err := d.client.TaskList(ctx, swarm.TaskListOptions{Filters: tf})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("listing the tasks of %q: %w", project, err)
	}
	nodes, err := d.client.NodeList(ctx, swarm.NodeListOptions{Filters: filters.NewArgs()})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("listing the nodes: %w", err)
	}
	byID := map[string]swarm.Service{}
	for _, s := range services {
		byID[s.ID] = s
	}
	nodeByID := map[string]swarm.Node{}
	for _, n := range nodes {
		nodeByID[n.ID] = n
	}
	return byID, tasks, nodeByID, nil
}

// Ps lists the project's tasks (with all, those that ended too): each
// with its service and slot, the node it is on, its state and error, the
// image digest it runs and the ports it publishes there, sorted by service
// and slot, newest first.
func (d *Driver) Ps(ctx context.Context, project string, all bool) ([]engine.Status, error) {
	services, tasks, nodes, err := d.tasks(ctx, project, all)
	if err != nil {
		return nil, err
	}
	out := make([]engine.Status, 0, len(tasks))
	created := map[string]int64{}
	for _, t := range tasks {
		svc, ok := services[t.ServiceID]
		if !ok {
			continue
		}
		node := nodes[t.NodeID]
		st := engine.Status{
			Container: engine.Container{
				ID: t.ID, Name: taskName(svc, t), Service: svc.Spec.Labels[engine.LabelService], Number: t.Slot,
				OneOff: svc.Spec.Labels[engine.LabelOneoff] == "true", State: string(t.Status.State),
			},
			Node:  node.Description.Hostname,
			Error: t.Status.Err,
		}
		if cs := t.Spec.ContainerSpec; cs != nil {
			st.Image = cs.Image
		}
		if cs := t.Status.ContainerStatus; cs != nil {
			st.ExitCode = cs.ExitCode
		}
		if t.Status.State == swarm.TaskStateRunning {
			st.Started = t.Status.Timestamp
		}
		st.Ports = taskPorts(svc, t, node)
		created[t.ID] = t.CreatedAt.UnixNano()
		out = append(out, st)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case a.Service != b.Service:
			return a.Service < b.Service
		case a.OneOff != b.OneOff:
			return !a.OneOff
		case a.Number != b.Number:
			return a.Number < b.Number
		}
		return created[a.ID] > created[b.ID]
	})
	return out, nil
}

// taskName names a task as docker service ps does: <service>.<slot>, or
// <service>.<node> for a global one.
func taskName(svc swarm.Service, t swarm.Task) string {
	if t.Slot > 0 {
		return fmt.Sprintf("%s.%d", svc.Spec.Name, t.Slot)
	}
	return svc.Spec.Name + "." + shortID(t.NodeID)
}

// taskPorts lists where a task is reached: its host-mode ports at its
// node's address, and the service's ports on the routing mesh, on every
// node.
func taskPorts(svc swarm.Service, t swarm.Task, node swarm.Node) []string {
	var out []string
	add := func(s string) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, p := range t.Status.PortStatus.Ports {
		add(fmt.Sprintf("%s:%d->%d/%s", node.Status.Addr, p.PublishedPort, p.TargetPort, p.Protocol))
	}
	for _, p := range svc.Endpoint.Ports {
		if p.PublishMode == swarm.PortConfigPublishModeIngress && p.PublishedPort != 0 {
			add(fmt.Sprintf("*:%d->%d/%s", p.PublishedPort, p.TargetPort, p.Protocol))
		}
	}
	sort.Strings(out)
	return out
}

// RunningImages returns, by service, the image of each running task: the
// repo@sha256 reference its spec names, the bytes every node runs
// (engine.ReleaseReader, for `stack releases`). One-off jobs are left out.
func (d *Driver) RunningImages(ctx context.Context, project string) (map[string][][]string, error) {
	services, tasks, _, err := d.tasks(ctx, project, false)
	if err != nil {
		return nil, err
	}
	out := map[string][][]string{}
	for _, t := range tasks {
		svc, ok := services[t.ServiceID]
		if !ok || t.Status.State != swarm.TaskStateRunning || svc.Spec.Labels[engine.LabelOneoff] == "true" || t.Spec.ContainerSpec == nil {
			continue
		}
		name := svc.Spec.Labels[engine.LabelService]
		out[name] = append(out[name], []string{t.Spec.ContainerSpec.Image})
	}
	return out, nil
}

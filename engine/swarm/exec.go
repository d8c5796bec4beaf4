package swarm

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/docker/docker/api/types/swarm"

	"github.com/stack-deploy/stack/engine"
)

// Exec cannot run a command in a task's container: the manager has no API
// into its nodes' containers. It says which node runs the task the command
// was meant for, and the command to run there, so the user can; stack run
// runs a one-off command as a job instead.
func (d *Driver) Exec(ctx context.Context, project string, o engine.ExecOptions) (int, error) {
	services, tasks, nodes, err := d.tasks(ctx, project, false)
	if err != nil {
		return 0, err
	}
	var running []swarm.Task
	for _, t := range tasks {
		if svc := services[t.ServiceID]; svc.Spec.Labels[engine.LabelService] == o.Service && svc.Spec.Labels[engine.LabelOneoff] != "true" && t.Status.State == swarm.TaskStateRunning {
			running = append(running, t)
		}
	}
	sort.Slice(running, func(i, j int) bool { return running[i].Slot < running[j].Slot })
	index := max(o.Index, 1)
	const why = "stack exec: %w by the swarm orchestrator: a Swarm manager cannot run commands in its nodes' containers"
	if len(running) < index {
		return 0, fmt.Errorf(why+", and service %q has %d running tasks, not a task %d; for a one-off command use stack run %s", engine.ErrUnsupported, o.Service, len(running), index, o.Service)
	}
	t := running[index-1]
	id := ""
	if cs := t.Status.ContainerStatus; cs != nil {
		id = shortID(cs.ContainerID)
	}
	return 0, fmt.Errorf(why+"; task %s runs on node %s as container %s: run the command there (docker exec %s %s on that node's engine), or stack run %s %s for a one-off container",
		engine.ErrUnsupported, taskName(services[t.ServiceID], t), nodes[t.NodeID].Description.Hostname, id, id, strings.Join(o.Command, " "), o.Service, strings.Join(o.Command, " "))
}

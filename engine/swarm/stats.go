package swarm

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/docker/docker/api/types/swarm"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/internal/dag"
	"github.com/stack-deploy/stack/progress"
)

// Stats reads the resource usage of the project's task containers on the
// nodes they run on: a manager has no such figures, so each node's own
// engine is asked (NodeHostsEnv says where it answers), as `stack stats`
// on one engine asks it. Each sample is named after its task
// (<project>_<service>.<slot>) and carries its node. A node whose engine
// cannot be reached is reported as a warning (progress event "node:NAME")
// naming its tasks, which have no figures; the others are read all the
// same. With o.Stream every Ready node is followed, so that tasks placed
// later are taken in.
func (d *Driver) Stats(ctx context.Context, project string, o engine.StatsOptions, sample func(engine.Sample)) error {
	services, tasks, nodes, err := d.tasks(ctx, project, o.All)
	if err != nil {
		return err
	}
	onNode := map[string][]string{} // task names by node ID
	for _, t := range tasks {
		if t.NodeID != "" && (o.All || t.Status.State == swarm.TaskStateRunning) && selectedTask(t, o.Services) {
			onNode[t.NodeID] = append(onNode[t.NodeID], taskName(services[t.ServiceID], t))
		}
	}
	read := map[string]swarm.Node{}
	for id, n := range nodes {
		if len(onNode[id]) > 0 || (o.Stream && n.Status.State == swarm.NodeStateReady) {
			read[id] = n
		}
	}
	engines, unreachable := d.nodeEngines(ctx, read)
	for id, n := range read {
		if why, ok := unreachable[n.Description.Hostname]; ok && len(onNode[id]) > 0 {
			names := onNode[id]
			sort.Strings(names)
			progress.Report(ctx, "node:"+n.Description.Hostname, "stats", progress.Warning,
				fmt.Sprintf("its engine cannot be reached (%s): no figures for %s", why, strings.Join(names, ", ")), nil)
		}
	}
	defer func() {
		for _, e := range engines {
			e.close()
		}
	}()
	var mu sync.Mutex
	return dag.Each(ctx, len(engines), 0, func(ctx context.Context, i int) error {
		e := engines[i]
		err := e.driver.Stats(ctx, project, o, func(s engine.Sample) {
			s.Container.Name, s.Container.Number = taskOfContainer(s.Container.Name)
			s.Node = e.name
			mu.Lock()
			defer mu.Unlock()
			sample(s)
		})
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("reading the resource usage on node %s: %w", e.name, err)
		}
		return nil
	})
}

// selectedTask says whether t is of one of services (any when none).
func selectedTask(t swarm.Task, services []string) bool {
	if len(services) == 0 {
		return true
	}
	name := ""
	if cs := t.Spec.ContainerSpec; cs != nil {
		name = cs.Labels[engine.LabelService]
	}
	for _, s := range services {
		if s == name {
			return true
		}
	}
	return false
}

// taskOfContainer reads a task container's name, <service>.<slot>.<task
// ID> (<service>.<node ID>.<task ID> for a global service), as the task's
// name and slot (0 for a global one).
func taskOfContainer(name string) (string, int) {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return name, 0
	}
	task := name[:i]
	j := strings.LastIndexByte(task, '.')
	if j < 0 {
		return task, 0
	}
	slot, err := strconv.Atoi(task[j+1:])
	if err != nil {
		return task, 0
	}
	return task, slot
}

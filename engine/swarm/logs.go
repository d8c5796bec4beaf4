package swarm

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/internal/dag"
)

// Logs reads the output of the project's services (not one-off jobs)
// through the manager, from whichever nodes ran their tasks, and calls line
// for each line, named after the task that wrote it and its node: without
// Follow every line of every service, merged in time order; with Follow
// as they come, until every stream ends or ctx is cancelled. Swarm keeps
// no replaced task's lines apart: --previous says so.
func (d *Driver) Logs(ctx context.Context, project string, o engine.LogsOptions, line func(engine.LogLine)) error {
	if o.Previous {
		return fmt.Errorf("stack logs --previous: %w by the swarm orchestrator: the manager reads every task's output, old ones included, with stack logs", engine.ErrUnsupported)
	}
	services, tasks, nodes, err := d.tasks(ctx, project, true)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, s := range o.Services {
		want[s] = true
	}
	emit := line
	var merged []engine.LogLine
	if !o.Follow {
		emit = func(l engine.LogLine) { merged = append(merged, l) } // the router serialises the calls
	}
	r := &taskRouter{line: emit, index: o.Index, tasks: map[string]swarm.Task{}, nodes: nodes}
	for _, t := range tasks {
		r.tasks[t.ID] = t
	}
	var read []swarm.Service
	for _, svc := range services {
		name := svc.Spec.Labels[engine.LabelService]
		if svc.Spec.Labels[engine.LabelOneoff] != "true" && (len(want) == 0 || want[name]) {
			read = append(read, svc)
		}
	}
	err = dag.Each(ctx, len(read), 0, func(ctx context.Context, i int) error { return d.serviceLogs(ctx, read[i], o, r) })
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// Each service's lines come in its own order; the merge puts every
	// node's and service's in the order the engines received them.
	sort.SliceStable(merged, func(i, j int) bool { return merged[i].Time.Before(merged[j].Time) })
	for _, l := range merged {
		line(l)
	}
	return err
}

func (d *Driver) serviceLogs(ctx context.Context, svc swarm.Service, o engine.LogsOptions, r *taskRouter) error {
	tail := o.Tail
	if tail == "" {
		tail = "all"
	}
	rc, err := d.client.ServiceLogs(ctx, svc.ID, container.LogsOptions{
		ShowStdout: true, ShowStderr: true, Follow: o.Follow, Tail: tail, Since: o.Since, Until: o.Until,
		Timestamps: true, Details: true,
	})
	if err != nil {
		return fmt.Errorf("reading the logs of service %s: %w", svc.Spec.Name, err)
	}
	defer rc.Close()
	stdout := &lineSplitter{emit: func(l []byte) { r.write(svc, l, "stdout") }}
	stderr := &lineSplitter{emit: func(l []byte) { r.write(svc, l, "stderr") }}
	if cs := svc.Spec.TaskTemplate.ContainerSpec; cs != nil && cs.TTY {
		_, err = io.Copy(stdout, rc) // a terminal's output is one raw stream
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, rc)
	}
	stdout.flush()
	stderr.flush()
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("reading the logs of service %s: %w", svc.Spec.Name, err)
	}
	return nil
}

// taskRouter names each line of a service's logs after the task that wrote
// it, from the details the manager prefixes it with
// ("<time> com.docker.swarm.node.id=...,com.docker.swarm.task.id=... text"),
// and hands the lines on one at a time.
type taskRouter struct {
	mu    sync.Mutex
	line  func(engine.LogLine)
	index int // 0: every task; else only those of this slot
	tasks map[string]swarm.Task
	nodes map[string]swarm.Node
}

func (r *taskRouter) write(svc swarm.Service, raw []byte, stream string) {
	ts, rest, _ := bytes.Cut(bytes.TrimSuffix(raw, []byte("\n")), []byte(" "))
	details, msg, ok := bytes.Cut(rest, []byte(" "))
	if !ok {
		details, msg = nil, rest
	}
	taskID, nodeID := "", ""
	for _, kv := range strings.Split(string(details), ",") {
		switch k, v, _ := strings.Cut(kv, "="); k {
		case "com.docker.swarm.task.id":
			taskID = v
		case "com.docker.swarm.node.id":
			nodeID = v
		}
	}
	t := r.tasks[taskID] // a task that began after the list has no slot yet
	if r.index > 0 && t.Slot != r.index {
		return
	}
	at, _ := time.Parse(time.RFC3339Nano, string(ts))
	c := engine.Container{ID: taskID, Name: taskName(svc, t), Service: svc.Spec.Labels[engine.LabelService], Number: t.Slot}
	r.mu.Lock()
	defer r.mu.Unlock()
	node := r.nodes[nodeID].Description.Hostname
	if node == "" {
		node = shortID(nodeID)
	}
	r.line(engine.LogLine{Container: c, Stream: stream, Time: at, Text: string(msg), Node: node})
}

// lineSplitter calls emit with each whole line written to it, newline
// included; flush emits an unterminated last one.
type lineSplitter struct {
	buf  bytes.Buffer
	emit func([]byte)
}

func (l *lineSplitter) Write(b []byte) (int, error) {
	l.buf.Write(b)
	for {
		i := bytes.IndexByte(l.buf.Bytes(), '\n')
		if i < 0 {
			return len(b), nil
		}
		l.emit(bytes.Clone(l.buf.Next(i + 1)))
	}
}

func (l *lineSplitter) flush() {
	if l.buf.Len() > 0 {
		l.emit(append(bytes.Clone(l.buf.Bytes()), '\n'))
		l.buf.Reset()
	}
}

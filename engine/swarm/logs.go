package swarm

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/hashicorp/go-multierror"

	"github.com/stack-deploy/stack/engine"
)

// Logs streams the output of the project's services (not one-off jobs),
// read through the manager from whichever nodes ran their tasks, each line
// to the writers w gives for the task that wrote it; with Follow it returns
// when every stream ends or ctx is cancelled.
func (d *Driver) Logs(ctx context.Context, project string, o engine.LogsOptions, w engine.LogWriter) error {
	services, tasks, _, err := d.tasks(ctx, project, true)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, s := range o.Services {
		want[s] = true
	}
	r := &taskRouter{w: w, tasks: map[string]swarm.Task{}, out: map[string][2]io.Writer{}}
	for _, t := range tasks {
		r.tasks[t.ID] = t
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs *multierror.Error
	)
	for _, svc := range services {
		name := svc.Spec.Labels[engine.LabelService]
		if svc.Spec.Labels[engine.LabelOneoff] == "true" || (len(want) > 0 && !want[name]) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.serviceLogs(ctx, svc, o, r); err != nil {
				mu.Lock()
				errs = multierror.Append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return errs.ErrorOrNil()
}

func (d *Driver) serviceLogs(ctx context.Context, svc swarm.Service, o engine.LogsOptions, r *taskRouter) error {
	tail := o.Tail
	if tail == "" {
		tail = "all"
	}
	rc, err := d.client.ServiceLogs(ctx, svc.ID, container.LogsOptions{
		ShowStdout: true, ShowStderr: true, Follow: o.Follow, Tail: tail, Timestamps: o.Timestamps, Details: true,
	})
	if err != nil {
		return fmt.Errorf("reading the logs of service %s: %w", svc.Spec.Name, err)
	}
	defer rc.Close()
	stdout := &lineSplitter{emit: func(line []byte) { r.write(svc, line, 0, o.Timestamps) }}
	stderr := &lineSplitter{emit: func(line []byte) { r.write(svc, line, 1, o.Timestamps) }}
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

// taskRouter hands each line of a service's logs to the writers of the
// task that wrote it, named by the details the manager prefixes it with
// ("com.docker.swarm.node.id=...,com.docker.swarm.task.id=... message").
type taskRouter struct {
	w     engine.LogWriter
	mu    sync.Mutex
	tasks map[string]swarm.Task
	out   map[string][2]io.Writer // by task ID: stdout, stderr
}

func (r *taskRouter) write(svc swarm.Service, line []byte, stream int, timestamps bool) {
	var ts []byte
	if timestamps {
		ts, line, _ = bytes.Cut(line, []byte(" "))
	}
	details, msg, ok := bytes.Cut(line, []byte(" "))
	if !ok {
		details, msg = nil, line
	}
	taskID := ""
	for _, kv := range strings.Split(string(details), ",") {
		if k, v, _ := strings.Cut(kv, "="); k == "com.docker.swarm.task.id" {
			taskID = v
		}
	}
	out := r.writers(svc, taskID)
	if timestamps {
		msg = append(append(ts, ' '), msg...)
	}
	_, _ = out[stream].Write(msg)
}

// writers returns the writers of a task of svc, asking w for them the
// first time: the container w names is the task's service and slot (a task
// that began after the list has none yet).
func (r *taskRouter) writers(svc swarm.Service, taskID string) [2]io.Writer {
	r.mu.Lock()
	defer r.mu.Unlock()
	if out, ok := r.out[taskID]; ok {
		return out
	}
	t := r.tasks[taskID]
	c := engine.Container{ID: taskID, Name: taskName(svc, t), Service: svc.Spec.Labels[engine.LabelService], Number: t.Slot}
	stdout, stderr := r.w(c)
	out := [2]io.Writer{stdout, stderr}
	r.out[taskID] = out
	return out
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

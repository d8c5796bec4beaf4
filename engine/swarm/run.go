package swarm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
)

// cleanupTimeout bounds the calls made after the run's context is done:
// removing a one-off job.
const cleanupTimeout = 30 * time.Second

// logsQuiet is how long a one-off job's log stream may stay silent after
// its task ended before it is taken to have said everything: a followed
// stream of a finished job never ends by itself.
const logsQuiet = 500 * time.Millisecond

// Run runs a one-off command of a service of p (its addresses injected, its
// image resolved) as a Swarm job of one task, <project>_<service>-run-<id>:
// the service's spec with the command, entrypoint and environment o gives,
// no published ports unless o.ServicePorts, run once, labelled
// io.stack.oneoff=true. Its output is streamed; the exit code of its task is
// returned. The job is removed once its task ends, as with --rm whether or
// not o.Remove says so: a finished job would go on holding the service's
// networks, and `stack down` could not remove them. Standard input cannot
// be attached to a task: -i is refused, as CheckRun says with the other
// flags a job cannot honour.
func (d *Driver) Run(ctx context.Context, p *manifest.Project, o engine.RunOptions) (int, error) {
	if err := d.CheckRun(o); err != nil {
		return 0, err
	}
	desired, err := Map(o.OneOffProject(p).Project, Options{Images: placeholders(p, nil), APIVersion: d.version(ctx)})
	if err != nil {
		return 0, err
	}
	s := desired.service(o.Service)
	if s.Name == "" {
		return 0, fmt.Errorf("no such service: %q", o.Service)
	}
	obs, err := Observe(ctx, d.client, p.Name)
	if err != nil {
		return 0, err
	}
	secrets, configs := map[string]string{}, map[string]string{}
	for _, x := range obs.Secrets {
		secrets[x.Name] = x.ID
	}
	for _, x := range obs.Configs {
		configs[x.Name] = x.ID
	}
	if err := d.createMissing(ctx, desired, s, secrets, configs); err != nil {
		return 0, err
	}
	spec, err := s.Resolve(secrets, configs)
	if errors.Is(err, ErrNoObjectID) {
		return 0, fmt.Errorf("%w: deploy the service first (stack up %s)", err, o.Service)
	}
	if err != nil {
		return 0, err
	}
	oneOff(&spec, o)
	auth := ""
	if d.images != nil {
		if auth, err = d.images.RegistryAuth(ctx, spec.TaskTemplate.ContainerSpec.Image); err != nil {
			return 0, err
		}
	}
	created, err := d.client.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{EncodedRegistryAuth: auth})
	if err != nil {
		return 0, fmt.Errorf("creating the one-off job %s: %w", spec.Name, err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		_ = d.client.ServiceRemove(cctx, created.ID)
	}()
	return d.follow(ctx, created.ID, spec.Name, o)
}

// oneOff turns a service's spec into a one-off job's.
func oneOff(spec *swarm.ServiceSpec, o engine.RunOptions) {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	spec.Name += "-run-" + hex.EncodeToString(b)
	labels := map[string]string{}
	for k, v := range spec.Labels {
		labels[k] = v
	}
	labels[engine.LabelOneoff] = "true"
	delete(labels, engine.LabelConfigHash)
	delete(labels, engine.LabelConfigParts)
	spec.Labels = labels
	one := uint64(1)
	spec.Mode = swarm.ServiceMode{ReplicatedJob: &swarm.ReplicatedJob{MaxConcurrent: &one, TotalCompletions: &one}}
	spec.UpdateConfig, spec.RollbackConfig = nil, nil
	tt := &spec.TaskTemplate
	tt.RestartPolicy = &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionNone}
	cs := *tt.ContainerSpec
	if len(o.Command) > 0 {
		cs.Args = o.Command
	}
	if o.Entrypoint != nil {
		cs.Command = o.Entrypoint
	}
	cs.Env = append(append([]string{}, cs.Env...), o.Env...)
	cs.Healthcheck = nil // a command, not the service: nothing waits for it to be healthy
	tt.ContainerSpec = &cs
	if !o.ServicePorts && spec.EndpointSpec != nil {
		e := *spec.EndpointSpec
		e.Ports = nil
		spec.EndpointSpec = &e
	}
}

// follow streams a one-off job's output until its task ends and returns
// its exit code; cancelling ctx ends it (Run removes the job, which stops
// the task).
func (d *Driver) follow(ctx context.Context, id, name string, o engine.RunOptions) (int, error) {
	lctx, stopLogs := context.WithCancel(ctx)
	defer stopLogs()
	activity := make(chan struct{}, 1)
	logsDone := make(chan error, 1)
	go func() {
		rc, err := d.client.ServiceLogs(lctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: true})
		if err != nil {
			logsDone <- err
			return
		}
		defer rc.Close()
		_, err = stdcopy.StdCopy(notify(o.Stdout, activity), notify(o.Stderr, activity), rc)
		logsDone <- err
	}()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	var end *swarm.Task
	for end == nil {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-tick.C:
		}
		tasks, err := d.client.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", id))})
		if err != nil {
			return 0, fmt.Errorf("following the one-off job %s: %w", name, err)
		}
		for i, t := range tasks {
			if t.Status.State == swarm.TaskStateComplete || taskFailed(t.Status.State) {
				end = &tasks[i]
			}
		}
	}
	// The task ended: let its last lines arrive, then stop following.
	quiet := time.NewTimer(logsQuiet)
	defer quiet.Stop()
	for waiting := true; waiting; {
		select {
		case <-activity:
			quiet.Reset(logsQuiet)
		case <-quiet.C:
			waiting = false
		case <-logsDone:
			waiting = false
		}
	}
	if end.Status.State == swarm.TaskStateComplete {
		return 0, nil
	}
	if cs := end.Status.ContainerStatus; cs != nil && cs.ExitCode != 0 {
		return cs.ExitCode, nil
	}
	return 0, fmt.Errorf("the one-off job %s: %w: %s", name, ErrTaskFailed, taskError(*end))
}

// notify is w, signalling on ch (without blocking) at each write.
func notify(w io.Writer, ch chan<- struct{}) io.Writer {
	if w == nil {
		w = io.Discard
	}
	return writerFunc(func(b []byte) (int, error) {
		select {
		case ch <- struct{}{}:
		default:
		}
		return w.Write(b)
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

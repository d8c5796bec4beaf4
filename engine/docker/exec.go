package docker

import (
	"context"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/stack-deploy/stack/engine"
)

// Exec runs a command in the running container of a service of project,
// streams its output (standard input attached, as docker compose exec does),
// and returns the command's exit code.
func (d *Driver) Exec(ctx context.Context, project string, o engine.ExecOptions) (int, error) {
	cs, err := d.containers(ctx, project)
	if err != nil {
		return 0, err
	}
	index := max(o.Index, 1)
	var id, name string
	for _, c := range cs {
		if c.Service != o.Service || c.OneOff {
			continue
		}
		if c.Number == index && c.Running() {
			id, name = c.ID, c.Name
		}
	}
	if id == "" {
		return 0, fmt.Errorf("service %q has no running container number %d: start it with `stack up %s`", o.Service, index, o.Service)
	}
	created, err := d.client.ContainerExecCreate(ctx, id, container.ExecOptions{
		Cmd: o.Command, Env: o.Env, User: o.User, WorkingDir: o.WorkingDir, Privileged: o.Privileged,
		AttachStdin: o.Stdin != nil, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		return 0, fmt.Errorf("running %q in container %q: %w", o.Command, name, err)
	}
	hijack, err := d.client.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		return 0, fmt.Errorf("attaching to %q in container %q: %w", o.Command, name, err)
	}
	defer hijack.Close()
	output := stream(hijack, o.Stdin, o.Stdout, o.Stderr)
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case err := <-output:
		if err != nil {
			return 0, fmt.Errorf("reading the output of %q in container %q: %w", o.Command, name, err)
		}
	}
	return execExitCode(ctx, d.client, created.ID, name)
}

// execExitCode reads the exit code once the engine marks the exec done: the
// output stream can end a moment before it does, so it asks a bounded number
// of times.
func execExitCode(ctx context.Context, c Client, execID, name string) (int, error) {
	for range 100 {
		ins, err := c.ContainerExecInspect(ctx, execID)
		if err != nil {
			return 0, fmt.Errorf("reading the exit code of an exec in container %q: %w", name, err)
		}
		if !ins.Running {
			return ins.ExitCode, nil
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return 0, fmt.Errorf("the exec in container %q still runs after its output ended", name)
}

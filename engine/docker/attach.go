package docker

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/stack-deploy/stack/engine"
)

var _ engine.Attacher = (*Driver)(nil)

// Attach connects o's streams to the running container c, as `docker
// attach`: its output from now on, this side's input to its standard input
// unless NoStdin. It returns when the container's output ends (it exited,
// or the engine saw the detach keys) or ctx ends.
func (d *Driver) Attach(ctx context.Context, c engine.Container, o engine.AttachOptions) error {
	info, err := d.client.ContainerInspect(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("inspecting container %q: %w", c.Name, err)
	}
	if info.State == nil || !info.State.Running {
		return fmt.Errorf("attaching to container %q: %w", c.Name, engine.ErrNotRunning)
	}
	stdin := !o.NoStdin && info.Config.OpenStdin
	hijack, err := d.client.ContainerAttach(ctx, c.ID, container.AttachOptions{
		Stream: true, Stdin: stdin, Stdout: true, Stderr: true, DetachKeys: o.DetachKeys,
	})
	if err != nil {
		return fmt.Errorf("attaching to container %q: %w", c.Name, err)
	}
	defer hijack.Close()
	if info.Config.Tty && stdin && o.Raw != nil {
		defer o.Raw()()
	}
	if info.Config.Tty && o.Sizes != nil {
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go d.resize(rctx, c.ID, o.Sizes)
	}
	if stdin && o.Stdin != nil {
		go func() {
			_, _ = io.Copy(hijack.Conn, o.Stdin)
			_ = hijack.CloseWrite()
		}()
	}
	output := make(chan error, 1)
	go func() {
		var err error
		if info.Config.Tty {
			// One stream, as the container's terminal wrote it.
			_, err = io.Copy(o.Stdout, hijack.Reader)
		} else {
			_, err = stdcopy.StdCopy(o.Stdout, o.Stderr, hijack.Reader)
		}
		output <- err
	}()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case err := <-output:
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("reading the output of container %q: %w", c.Name, err)
		}
		return nil
	}
}

// resize sizes container id's terminal to each size sizes gives until ctx
// ends, as docker attach does: the first a row and a column larger just
// before, so that the program on it redraws (a shell its prompt) even when
// the size is the one of the last attach. A resize that fails (the
// container exiting) leaves the next to try again.
func (d *Driver) resize(ctx context.Context, id string, sizes <-chan engine.TerminalSize) {
	first := true
	for {
		var s engine.TerminalSize
		select {
		case <-ctx.Done():
			return
		case s = <-sizes:
		}
		if s.Height == 0 || s.Width == 0 {
			continue
		}
		if first {
			first = false
			_ = d.client.ContainerResize(ctx, id, container.ResizeOptions{Height: s.Height + 1, Width: s.Width + 1})
		}
		_ = d.client.ContainerResize(ctx, id, container.ResizeOptions{Height: s.Height, Width: s.Width})
	}
}

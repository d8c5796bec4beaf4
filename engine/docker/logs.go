package docker

import (
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/hashicorp/go-multierror"

	"github.com/stack-deploy/stack/engine"
)

// Logs streams the output of the project's service containers (not
// one-offs) to the writers w gives for each, all containers at once; with
// Follow it returns when every stream ends or ctx is cancelled.
func (d *Driver) Logs(ctx context.Context, project string, o engine.LogsOptions, w engine.LogWriter) error {
	cs, err := d.containers(ctx, project)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, s := range o.Services {
		want[s] = true
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs *multierror.Error
	)
	for _, c := range cs {
		if c.OneOff || (len(want) > 0 && !want[c.Service]) {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := d.containerLogs(ctx, c, o, w); err != nil {
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

func (d *Driver) containerLogs(ctx context.Context, c engine.Container, o engine.LogsOptions, w engine.LogWriter) error {
	tail := o.Tail
	if tail == "" {
		tail = "all"
	}
	rc, err := d.client.ContainerLogs(ctx, c.ID, container.LogsOptions{
		ShowStdout: true, ShowStderr: true, Follow: o.Follow, Tail: tail, Timestamps: o.Timestamps,
	})
	if err != nil {
		return fmt.Errorf("reading logs of container %q: %w", c.Name, err)
	}
	defer rc.Close()
	stdout, stderr := w(c)
	ins, err := d.client.ContainerInspect(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("inspecting container %q: %w", c.Name, err)
	}
	if ins.Config != nil && ins.Config.Tty {
		// A terminal's output is one raw stream, not multiplexed.
		_, err = io.Copy(stdout, rc)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, rc)
	}
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("reading logs of container %q: %w", c.Name, err)
	}
	return nil
}

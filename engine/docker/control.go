package docker

import (
	"context"
	"fmt"
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/hashicorp/go-multierror"
	"golang.org/x/sync/errgroup"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/progress"
)

var (
	_ engine.Killer        = (*Driver)(nil)
	_ engine.Pauser        = (*Driver)(nil)
	_ engine.Remover       = (*Driver)(nil)
	_ engine.ReleaseReader = (*Driver)(nil)
	_ engine.Creator       = (*Driver)(nil)
	_ engine.Waiter        = (*Driver)(nil)
)

// controlParallel bounds the calls of one verb under way at once.
const controlParallel = 16

// each makes call on every one of cs, controlParallel at once, reporting
// each container as working, then done or failed; every failure is
// returned, the other containers are still acted on.
func each(ctx context.Context, cs []engine.Container, action string, call func(context.Context, engine.Container) error) error {
	var (
		mu   sync.Mutex
		errs *multierror.Error
		g    errgroup.Group
	)
	g.SetLimit(controlParallel)
	for _, c := range cs {
		g.Go(func() error {
			resource := "container:" + c.Name
			progress.Report(ctx, resource, action, progress.Working, "", nil)
			if err := call(ctx, c); err != nil {
				progress.Report(ctx, resource, action, progress.Failed, "", err)
				mu.Lock()
				errs = multierror.Append(errs, err)
				mu.Unlock()
				return nil
			}
			progress.Report(ctx, resource, action, progress.Done, "", nil)
			return nil
		})
	}
	_ = g.Wait()
	return errs.ErrorOrNil()
}

// Kill sends signal to each of cs.
func (d *Driver) Kill(ctx context.Context, cs []engine.Container, signal string) error {
	return each(ctx, cs, "kill", func(ctx context.Context, c engine.Container) error {
		if err := d.client.ContainerKill(ctx, c.ID, signal); err != nil {
			return fmt.Errorf("killing container %q: %w", c.Name, err)
		}
		return nil
	})
}

// Pause freezes every process of each of cs.
func (d *Driver) Pause(ctx context.Context, cs []engine.Container) error {
	return each(ctx, cs, "pause", func(ctx context.Context, c engine.Container) error {
		if err := d.client.ContainerPause(ctx, c.ID); err != nil {
			return fmt.Errorf("pausing container %q: %w", c.Name, err)
		}
		return nil
	})
}

// Unpause resumes each of cs.
func (d *Driver) Unpause(ctx context.Context, cs []engine.Container) error {
	return each(ctx, cs, "unpause", func(ctx context.Context, c engine.Container) error {
		if err := d.client.ContainerUnpause(ctx, c.ID); err != nil {
			return fmt.Errorf("unpausing container %q: %w", c.Name, err)
		}
		return nil
	})
}

// Remove removes each of cs (stopped: a running one is an error from the
// engine), keeping its last lines first; with volumes, the anonymous
// volumes it mounts go too, those a replacement handed on by name included
// (RemoveVolumes alone leaves them).
func (d *Driver) Remove(ctx context.Context, project string, cs []engine.Container, volumes bool) error {
	return each(ctx, cs, "remove", func(ctx context.Context, c engine.Container) error {
		ins, err := d.client.ContainerInspect(ctx, c.ID)
		if cerrdefs.IsNotFound(err) {
			return nil // removed meanwhile
		}
		if err != nil {
			return fmt.Errorf("inspecting container %q: %w", c.Name, err)
		}
		if ins.State != nil && ins.State.Running {
			return fmt.Errorf("removing container %q: it runs: stop it first (stack rm --stop)", c.Name)
		}
		if err := savePrevious(ctx, d.client, project, c.ID); err != nil {
			progress.Report(ctx, "container:"+c.Name, "remove", progress.Warning, fmt.Sprintf("its last lines are not kept for logs --previous: %v", err), nil)
		}
		var anon []string
		for _, m := range ins.Mounts {
			if volumes && m.Type == mount.TypeVolume && anonymous.MatchString(m.Name) {
				anon = append(anon, m.Name)
			}
		}
		if err := d.client.ContainerRemove(ctx, c.ID, container.RemoveOptions{RemoveVolumes: volumes}); err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("removing container %q: %w", c.Name, err)
		}
		for _, v := range anon {
			if err := d.client.VolumeRemove(ctx, v, false); err != nil && !cerrdefs.IsNotFound(err) {
				return fmt.Errorf("removing anonymous volume %s of container %q: %w", v, c.Name, err)
			}
		}
		return nil
	})
}

// Wait returns once each of cs has stopped, calling exited with each exit
// code as it does.
func (d *Driver) Wait(ctx context.Context, cs []engine.Container, exited func(engine.Container, int)) error {
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	for _, c := range cs {
		g.Go(func() error {
			// Not bounded: each call only waits.
			res, errs := d.client.ContainerWait(gctx, c.ID, container.WaitConditionNotRunning)
			select {
			case r := <-res:
				if r.Error != nil {
					return fmt.Errorf("waiting for container %q: %s", c.Name, r.Error.Message)
				}
				mu.Lock()
				exited(c, int(r.StatusCode))
				mu.Unlock()
				return nil
			case err := <-errs:
				return fmt.Errorf("waiting for container %q: %w", c.Name, err)
			}
		})
	}
	return g.Wait()
}

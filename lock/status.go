package lock

import (
	"context"
	"errors"
	"fmt"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"

	"github.com/stack-deploy/stack/progress"
)

// Status returns who holds project's lock, or nil when nobody does. It
// looks the way a waiting run does: a lock whose holder is gone is cleared
// (and reported), not shown as held.
func Status(ctx context.Context, c Client, project string) (*Holder, error) {
	// No wait: a lock that is not running is probed, within probeGrace.
	a := &acquirer{c: c, project: project, start: time.Now(), quiet: true}
	a.deadline = a.start
	for range lateAttempts {
		in, err := inspect(ctx, c, project)
		if in == nil {
			return nil, err
		}
		if in.State.Running {
			h := holderOf(in.Config.Labels)
			return &h, nil
		}
		var held *HeldError
		if err := a.await(ctx); errors.As(err, &held) {
			return &held.Holder, nil
		} else if err != nil {
			return nil, err
		}
		if err := pause(ctx, retryPause); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("the lock container %q keeps changing: ask again", Name(project))
}

// Free reports, in one look, whether nobody holds project's lock. The lock
// of a holder that is gone counts as held: Acquire takes it over.
func Free(ctx context.Context, c Client, project string) (bool, error) {
	_, err := c.ContainerInspect(ctx, Name(project))
	switch {
	case cerrdefs.IsNotFound(err):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("inspecting the lock container %q: %w", Name(project), err)
	}
	return false, nil
}

// Break removes project's lock whoever holds it, and returns whose it was
// (nil: nobody's). A holder that is still running learns it within a
// heartbeat and stops. It also removes lock images of project that runs
// killed while taking the lock left behind.
func Break(ctx context.Context, c Client, project string) (*Holder, error) {
	in, err := inspect(ctx, c, project)
	if err != nil {
		return nil, err
	}
	var h *Holder
	if in != nil {
		holder := holderOf(in.Config.Labels)
		h = &holder
		if err := removeContainer(ctx, c, in.ID); err != nil {
			return nil, err
		}
		reportOp(ctx, project, "release", nil, "removed the lock of "+holder.String())
	}
	images, err := c.ImageList(ctx, image.ListOptions{Filters: filters.NewArgs(filters.Arg("label", labelProject+"="+project))})
	if err != nil {
		return h, fmt.Errorf("listing lock images: %w", err)
	}
	for _, img := range images {
		// One a run is about to create its lock container from is in use
		// or will be: that run imports another.
		if _, err := c.ImageRemove(ctx, img.ID, image.RemoveOptions{}); err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
			return h, fmt.Errorf("removing lock image %s: %w", img.ID, err)
		}
		progress.Report(ctx, resource(project), "release", progress.Info, "removed a lock image a killed run left: "+img.ID, nil)
	}
	return h, nil
}

// inspect returns project's lock container, or nil when there is none.
func inspect(ctx context.Context, c Client, project string) (*container.InspectResponse, error) {
	in, err := c.ContainerInspect(ctx, Name(project))
	switch {
	case cerrdefs.IsNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("inspecting the lock container %q: %w", Name(project), err)
	case in.Config == nil || in.Config.Labels[labelProject] != project:
		return nil, fmt.Errorf("container %q: %w: rename or remove it", Name(project), ErrNotLock)
	}
	return &in, nil
}

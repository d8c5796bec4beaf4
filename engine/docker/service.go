package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/progress"
)

// service carries out a service action: every replica step in parallel,
// then, having said so through started, waits until the service is ready as
// the action's Ready says.
func (s *session) service(ctx context.Context, a *engine.Action, started func()) error {
	if a.Kind == engine.Remove {
		return s.removeService(ctx, a, started)
	}
	name := a.Name()
	svc, inManifest := s.plan.Desired.Project.Services[name]
	cond := a.Ready
	if inManifest && cond == engine.Started && svc.HealthCheck == nil && a.Kind != engine.Stop {
		healthcheck, err := s.imageHealthcheck(ctx, s.plan.Desired.ImageName(name))
		if err != nil {
			return err
		}
		if healthcheck {
			cond = engine.Healthy // the image declares one: up waits for it too
		}
	}
	var (
		mu    sync.Mutex
		errs  []error
		ready []string // container IDs to wait for
		wg    sync.WaitGroup
	)
	for _, r := range a.Replicas {
		if r.Kind != engine.Remove && !inManifest {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := s.replica(ctx, a, r, cond)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				errs = append(errs, err)
			case id != "" && (cond != engine.Started || r.Kind == engine.Unchanged):
				// A started container is ready as soon as the start call
				// returns, as Compose has it: no inspect needed.
				ready = append(ready, id)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	started()
	if len(ready) > 0 {
		progress.Report(ctx, a.Resource, string(a.Kind), progress.Working, "waiting until "+string(cond), nil)
	}
	for _, id := range ready {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.waitReady(ctx, name, id, cond); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// replica carries out one replica step and returns the ID of the container
// to wait for, empty when there is none or it is ready already (as cond
// says).
func (s *session) replica(ctx context.Context, a *engine.Action, r engine.Replica, cond engine.Condition) (string, error) {
	switch r.Kind {
	case engine.Create:
		id, ok, err := s.precreated(ctx, a, r.Number)
		if err != nil {
			return "", err
		}
		if !ok {
			if id, err = s.create(ctx, a, r.Number); err != nil {
				return "", err
			}
		}
		return id, s.start(ctx, a, r.Number, id)
	case engine.Recreate:
		keep, err := s.anonymousVolumes(ctx, r.Container)
		if err != nil {
			return "", err
		}
		if err := s.removeContainer(ctx, r.Container); err != nil {
			return "", err
		}
		id, err := s.create(ctx, a, r.Number, keep...)
		if err != nil {
			return "", err
		}
		return id, s.start(ctx, a, r.Number, id)
	case engine.Start:
		if r.Container.State == "paused" {
			if err := s.client.ContainerUnpause(ctx, r.Container.ID); err != nil {
				return "", fmt.Errorf("unpausing container %q: %w", r.Container.Name, err)
			}
			return r.Container.ID, nil
		}
		if err := s.client.ContainerStart(ctx, r.Container.ID, container.StartOptions{}); err != nil {
			return "", fmt.Errorf("starting container %q: %w", r.Container.Name, err)
		}
		return r.Container.ID, nil
	case engine.Restart:
		if err := s.client.ContainerRestart(ctx, r.Container.ID, container.StopOptions{}); err != nil {
			return "", fmt.Errorf("restarting container %q: %w", r.Container.Name, err)
		}
		return r.Container.ID, nil
	case engine.Stop:
		if err := s.client.ContainerStop(ctx, r.Container.ID, container.StopOptions{}); err != nil {
			return "", fmt.Errorf("stopping container %q: %w", r.Container.Name, err)
		}
		return "", nil
	case engine.Remove:
		return "", s.removeContainer(ctx, r.Container)
	default: // unchanged: wait only if it is not ready yet
		c := r.Container
		switch {
		case cond == engine.Completed && c.Completed(),
			cond == engine.Healthy && c.Running() && c.Health == "healthy",
			cond == engine.Started && c.Running():
			return "", nil
		}
		return c.ID, nil
	}
}

// create creates replica number of a's service, connected to all its
// networks, and returns its ID; it does not start it.
// keep are anonymous volumes of a replaced container, mounted again where
// the new container does not mount something else.
func (s *session) create(ctx context.Context, a *engine.Action, number int, keep ...mount.Mount) (string, error) {
	p := s.plan.Desired
	svc := p.Project.Services[a.Name()]
	name := s.containerName(a, number)
	sp, _, err := containerSpec(p.Project, svc, containerLabels(p.Name, svc.Name, number, a), s.apiVersion)
	if err != nil {
		return "", err
	}
	sp.host.Mounts = append(sp.host.Mounts, uncovered(sp.host, keep)...)
	sp.config.Image = p.ImageName(svc.Name)
	created, err := s.client.ContainerCreate(ctx, sp.config, sp.host, sp.network, nil, name)
	if err != nil {
		return "", fmt.Errorf("creating container %q: %w", name, err)
	}
	for net, ep := range sp.connect {
		if err := s.client.NetworkConnect(ctx, net, created.ID, ep); err != nil {
			return "", fmt.Errorf("connecting container %q to network %q: %w", name, net, err)
		}
	}
	return created.ID, nil
}

// imageHealthcheck reports whether image declares a HEALTHCHECK, inspecting
// each image once per session.
func (s *session) imageHealthcheck(ctx context.Context, image string) (bool, error) {
	s.mu.Lock()
	has, ok := s.healthchecks[image]
	s.mu.Unlock()
	if ok {
		return has, nil
	}
	ins, err := s.client.ImageInspect(ctx, image)
	if err != nil {
		return false, fmt.Errorf("inspecting image %q: %w", image, err)
	}
	hc := ins.Config != nil && ins.Config.Healthcheck != nil
	has = hc && len(ins.Config.Healthcheck.Test) > 0 && ins.Config.Healthcheck.Test[0] != "NONE"
	s.mu.Lock()
	s.healthchecks[image] = has
	s.mu.Unlock()
	return has, nil
}

// anonymousVolumes lists the anonymous volumes (an image's VOLUME without a
// named volume over it) of a container about to be replaced: as Compose
// does, its replacement mounts them again, so their data survives a
// configuration change.
func (s *session) anonymousVolumes(ctx context.Context, c *engine.Container) ([]mount.Mount, error) {
	ins, err := s.client.ContainerInspect(ctx, c.ID)
	if err != nil {
		return nil, fmt.Errorf("inspecting container %q: %w", c.Name, err)
	}
	var out []mount.Mount
	for _, m := range ins.Mounts {
		if m.Type == mount.TypeVolume && anonymous.MatchString(m.Name) {
			out = append(out, mount.Mount{Type: mount.TypeVolume, Source: m.Name, Target: m.Destination})
		}
	}
	return out, nil
}

// anonymous matches the generated names of anonymous volumes.
var anonymous = regexp.MustCompile(`^[0-9a-f]{64}$`)

// uncovered returns the mounts of keep whose target the host config does not
// mount already.
func uncovered(host *container.HostConfig, keep []mount.Mount) []mount.Mount {
	taken := map[string]bool{}
	for _, m := range host.Mounts {
		taken[m.Target] = true
	}
	for _, b := range host.Binds {
		if parts := strings.Split(b, ":"); len(parts) >= 2 {
			taken[parts[1]] = true
		}
	}
	for t := range host.Tmpfs {
		taken[t] = true
	}
	var out []mount.Mount
	for _, m := range keep {
		if !taken[m.Target] {
			out = append(out, m)
		}
	}
	return out
}

// containerName is the name of replica number of a's service: its
// container_name, or <project>-<service>-<number>.
func (s *session) containerName(a *engine.Action, number int) string {
	if n := s.plan.Desired.Project.Services[a.Name()].ContainerName; n != "" {
		return n
	}
	return ContainerName(s.plan.Project, a.Name(), number)
}

func (s *session) start(ctx context.Context, a *engine.Action, number int, id string) error {
	if err := s.client.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return fmt.Errorf("starting container %q: %w", s.containerName(a, number), err)
	}
	return nil
}

// removeService stops every container of a removal (down, orphans), says
// so through stopped, then removes them: what waits for this service to stop
// need not wait for the removals.
func (s *session) removeService(ctx context.Context, a *engine.Action, stopped func()) error {
	each := func(f func(c *engine.Container) error) error {
		var (
			mu   sync.Mutex
			wg   sync.WaitGroup
			errs []error
		)
		for _, r := range a.Replicas {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := f(r.Container); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	if err := each(func(c *engine.Container) error { return s.stopContainer(ctx, c) }); err != nil {
		return err
	}
	stopped()
	return each(func(c *engine.Container) error {
		var anon []mount.Mount
		if a.Volumes {
			// A volume handed on from a replaced container is mounted by
			// name, so RemoveVolumes alone would leave it.
			var err error
			if anon, err = s.anonymousVolumes(ctx, c); err != nil {
				return err
			}
		}
		if err := s.client.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: a.Volumes}); err != nil {
			return fmt.Errorf("removing container %q: %w", c.Name, err)
		}
		for _, m := range anon {
			if err := s.client.VolumeRemove(ctx, m.Source, false); err != nil && !cerrdefs.IsNotFound(err) {
				return fmt.Errorf("removing anonymous volume %s of container %q: %w", m.Source, c.Name, err)
			}
		}
		return nil
	})
}

func (s *session) stopContainer(ctx context.Context, c *engine.Container) error {
	if !c.Running() {
		return nil
	}
	if err := s.client.ContainerStop(ctx, c.ID, container.StopOptions{}); err != nil {
		return fmt.Errorf("stopping container %q: %w", c.Name, err)
	}
	return nil
}

// removeContainer stops c gracefully (its stop signal and grace period) and
// removes it; its named volumes stay.
func (s *session) removeContainer(ctx context.Context, c *engine.Container) error {
	if err := s.stopContainer(ctx, c); err != nil {
		return err
	}
	if err := s.client.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true}); err != nil {
		return fmt.Errorf("removing container %q: %w", c.Name, err)
	}
	return nil
}

// LastLogs returns the last n lines a container wrote to stdout and stderr,
// indented for an error message; empty when there are none or they cannot
// be read.
func LastLogs(ctx context.Context, c Client, id string, n int) string {
	rc, err := c.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: fmt.Sprint(n)})
	if err != nil {
		return ""
	}
	defer rc.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, rc); err != nil && out.Len() == 0 {
		return ""
	}
	text := strings.TrimRight(out.String(), "\n")
	if text == "" {
		return ""
	}
	return "\n    | " + strings.ReplaceAll(text, "\n", "\n    | ")
}

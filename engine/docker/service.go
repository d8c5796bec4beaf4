package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/progress"
)

// service carries out a service action: every replica step in parallel,
// then, having said so through started, waits until the service is ready as
// the action's Ready says.
func (s *session) service(ctx context.Context, a *engine.Action, started func()) error {
	name := a.Name()
	_, inManifest := s.plan.Desired.Project.Services[name]
	var (
		mu       sync.Mutex
		errs     []error
		ready    []string // container IDs to wait for
		wg       sync.WaitGroup
		warnOnce sync.Once
	)
	for _, r := range a.Replicas {
		if r.Kind != engine.Remove && !inManifest {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := s.replica(ctx, a, r, func(warnings []string) {
				warnOnce.Do(func() {
					for _, w := range warnings {
						progress.Report(ctx, a.Resource, string(a.Kind), progress.Warning, w, nil)
					}
				})
			})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				errs = append(errs, err)
			case id != "" && (a.Ready != engine.Started || r.Kind == engine.Unchanged):
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
	for _, id := range ready {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.waitReady(ctx, name, id, a.Ready); err != nil {
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
// to wait for, empty when there is none or it is ready already.
func (s *session) replica(ctx context.Context, a *engine.Action, r engine.Replica, warn func([]string)) (string, error) {
	switch r.Kind {
	case engine.Create:
		return s.createStart(ctx, a, r.Number, warn)
	case engine.Recreate:
		if err := s.removeContainer(ctx, r.Container); err != nil {
			return "", err
		}
		return s.createStart(ctx, a, r.Number, warn)
	case engine.Start:
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
		case a.Ready == engine.Completed && c.Completed(),
			a.Ready == engine.Healthy && c.Running() && c.Health == "healthy",
			a.Ready == engine.Started && c.Running():
			return "", nil
		}
		return c.ID, nil
	}
}

func (s *session) createStart(ctx context.Context, a *engine.Action, number int, warn func([]string)) (string, error) {
	p := s.plan.Desired
	svc := p.Project.Services[a.Name()]
	name := ContainerName(p.Name, svc.Name, number)
	if svc.ContainerName != "" {
		name = svc.ContainerName
	}
	sp, warnings, err := containerSpec(p.Project, svc, containerLabels(p.Name, svc.Name, number, a), s.apiVersion)
	if err != nil {
		return "", err
	}
	warn(warnings)
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
	if err := s.client.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		return "", fmt.Errorf("starting container %q: %w", name, err)
	}
	return created.ID, nil
}

// removeContainer stops c gracefully (its stop signal and grace period) and
// removes it; its named volumes stay.
func (s *session) removeContainer(ctx context.Context, c *engine.Container) error {
	if c.Running() {
		if err := s.client.ContainerStop(ctx, c.ID, container.StopOptions{}); err != nil {
			return fmt.Errorf("stopping container %q: %w", c.Name, err)
		}
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

package docker

import (
	"context"
	"fmt"
	"sync"

	"github.com/docker/docker/api/types/container"

	"github.com/stack-deploy/stack/engine"
)

// Creating a container does not depend on its dependencies running, only
// starting it does. So the session creates the new containers of a service
// in the background as soon as the networks and volumes it needs exist, and
// the walker only starts them when the service's turn comes: creation is off
// the critical path of the dependency chain. Containers created for an
// action that never runs (a dependency failed, Ctrl-C) are removed on Close,
// so a skipped service leaves nothing behind.

// precreation is the background creation of one service's new replicas.
type precreation struct {
	action  *engine.Action
	needs   map[string]bool // network/volume resources still to be done
	started bool            // creation launched
	used    bool            // its action ran and took the containers
	done    chan struct{}
	ids     map[int]string // container number -> ID, once done
	err     error
}

// planPrecreations registers a precreation for every service action that
// creates containers, and launches those whose networks and volumes exist.
func (s *session) planPrecreations(ctx context.Context) {
	s.pre = map[string]*precreation{}
	pending := map[string]bool{}
	for _, a := range s.plan.Actions {
		if (a.Type() == "network" || a.Type() == "volume") && a.Kind != engine.Unchanged {
			pending[a.Resource] = true
		}
	}
	for _, a := range s.plan.Actions {
		if a.Type() != "service" || (a.Kind != engine.Create && a.Kind != engine.Scale) {
			continue
		}
		if _, ok := s.plan.Desired.Project.Services[a.Name()]; !ok {
			continue
		}
		p := &precreation{action: a, needs: map[string]bool{}, done: make(chan struct{}), ids: map[int]string{}}
		for _, w := range a.WaitsFor {
			if pending[w] {
				p.needs[w] = true
			}
		}
		s.pre[a.Resource] = p
	}
	s.resourceDone(ctx, "")
}

// resourceDone records that a network or volume exists and launches the
// precreations that were waiting only for it.
func (s *session) resourceDone(ctx context.Context, resource string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.pre {
		delete(p.needs, resource)
		if len(p.needs) == 0 && !p.started {
			p.started = true
			go s.precreate(ctx, p)
		}
	}
}

func (s *session) precreate(ctx context.Context, p *precreation) {
	defer close(p.done)
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		errs []error
	)
	for _, r := range p.action.Replicas {
		if r.Kind != engine.Create {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case s.sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			id, err := s.create(ctx, p.action, r.Number)
			<-s.sem
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			p.ids[r.Number] = id
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		p.err = errs[0]
	} else if ctx.Err() != nil {
		p.err = ctx.Err()
	}
}

// precreated returns the container created in advance for replica number
// of a, waiting for the creation if it is under way; ok is false when there
// is none (the caller creates it then).
func (s *session) precreated(ctx context.Context, a *engine.Action, number int) (id string, ok bool, err error) {
	s.mu.Lock()
	p := s.pre[a.Resource]
	if p == nil || !p.started {
		s.mu.Unlock()
		return "", false, nil
	}
	p.used = true
	s.mu.Unlock()
	select {
	case <-p.done:
	case <-ctx.Done():
		return "", false, ctx.Err()
	}
	if p.err != nil {
		return "", false, p.err
	}
	id, ok = p.ids[number]
	return id, ok, nil
}

// removeUnused removes the containers created for actions that never ran.
func (s *session) removeUnused(ctx context.Context) error {
	s.mu.Lock()
	var unused []*precreation
	for _, p := range s.pre {
		if p.started && !p.used {
			unused = append(unused, p)
		}
	}
	s.mu.Unlock()
	var firstErr error
	for _, p := range unused {
		<-p.done
		for _, id := range p.ids {
			if err := s.client.ContainerRemove(ctx, id, container.RemoveOptions{Force: true}); err != nil && firstErr == nil {
				firstErr = fmt.Errorf("removing container %s created for %s, which did not run: %w", id, p.action.Resource, err)
			}
		}
	}
	return firstErr
}

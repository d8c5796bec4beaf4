package swarm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"

	"github.com/stack-deploy/stack/engine"
)

// freeTimeout bounds the wait for a network or volume to be free of a
// removed service's tasks: Swarm removes services asynchronously, and each
// node stops and removes their containers in its own time.
const freeTimeout = time.Minute

// executor makes the calls of one plan's operations; it implements
// engine.Executor.
type executor struct {
	d    *Driver
	plan *engine.Plan
	opts engine.ApplyOptions

	mu                   sync.Mutex
	secretIDs, configIDs map[string]string // by object name

	watchOnce sync.Once
	watch     *watcher
}

// Begin opens a run of plan's operations. The project's services and tasks
// are watched from the first wait on (the manager's service events, and its
// task states read on each event and at a short interval: task changes on
// other nodes raise no event on the manager), so a run that waits for
// nothing reads nothing more.
func (d *Driver) Begin(ctx context.Context, plan *engine.Plan, o engine.ApplyOptions) (engine.Executor, error) {
	d.version(ctx)
	x := &executor{d: d, plan: plan, opts: o, secretIDs: map[string]string{}, configIDs: map[string]string{}}
	if obs, ok := plan.Observed.Driver.(*Observed); ok {
		for _, s := range obs.Secrets {
			x.secretIDs[s.Name] = s.ID
		}
		for _, c := range obs.Configs {
			x.configIDs[c.Name] = c.ID
		}
	}
	return x, nil
}

// Close stops watching.
func (x *executor) Close() error {
	x.watchOnce.Do(func() {}) // no watcher starts after Close
	if x.watch != nil {
		x.watch.stop()
	}
	return nil
}

func (x *executor) watcher(ctx context.Context) *watcher {
	x.watchOnce.Do(func() { x.watch = watch(ctx, x.d.client, x.plan.Project) })
	return x.watch
}

// Execute makes the call op names.
func (x *executor) Execute(ctx context.Context, op *engine.Op, notes engine.Notes) error {
	switch p := op.Payload.(type) {
	case *createNetwork:
		if _, err := x.d.client.NetworkCreate(ctx, p.net.Name, p.net.Spec); err != nil {
			return fmt.Errorf("creating network %q: %w", p.net.Name, err)
		}
		return nil
	case *removeNetwork:
		return x.removeNetwork(ctx, p.r)
	case *removeVolume:
		return x.removeVolume(ctx, p.name, notes)
	case *createObject:
		return x.createObject(ctx, p)
	case *removeObject:
		return x.removeObject(ctx, p)
	case *createService:
		return x.createService(ctx, p, notes)
	case *updateService:
		return x.updateService(ctx, p, notes)
	case *removeService:
		if err := x.d.client.ServiceRemove(ctx, p.current.ID); err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("removing service %s: %w", p.current.Name, err)
		}
		return nil
	case *waitService:
		return x.waitService(ctx, p, notes)
	}
	return fmt.Errorf("operation %q: the Swarm driver has no call for it", op.ID)
}

// removeNetwork removes a network once the tasks of services just removed
// no longer hold it, then waits until the manager no longer lists it (it
// removes networks asynchronously), within freeTimeout.
func (x *executor) removeNetwork(ctx context.Context, r engine.Resource) error {
	deadline := time.Now().Add(freeTimeout)
	if err := removeWhenFree(ctx, deadline, "network "+r.Name, func() error { return x.d.client.NetworkRemove(ctx, r.ID) }); err != nil {
		return err
	}
	return pollUntil(ctx, deadline, func() (bool, error) {
		left, err := x.d.client.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("id", r.ID))})
		if err == nil && len(left) > 0 && time.Now().After(deadline) {
			err = fmt.Errorf("removing network %q: the manager still lists it %s later", r.Name, freeTimeout)
		}
		return err != nil || len(left) == 0, err
	})
}

// removeVolume removes a volume from the manager's own node, once the
// containers of the tasks just removed there have gone, and says where
// else it may be: a manager cannot remove the volumes of other nodes.
func (x *executor) removeVolume(ctx context.Context, name string, notes engine.Notes) error {
	deadline := time.Now().Add(freeTimeout)
	if err := removeWhenFree(ctx, deadline, "volume "+name+" from the manager's node", func() error { return x.d.client.VolumeRemove(ctx, name, false) }); err != nil {
		return err
	}
	nodes, err := x.d.client.NodeList(ctx, swarm.NodeListOptions{})
	if err != nil {
		return fmt.Errorf("listing the nodes: %w", err)
	}
	info, err := x.d.client.Info(ctx)
	if err != nil {
		return fmt.Errorf("asking the Swarm manager: %w", err)
	}
	var others []string
	for _, n := range nodes {
		if n.ID != info.Swarm.NodeID {
			others = append(others, n.Description.Hostname)
		}
	}
	if len(others) > 0 {
		notes.Warn(fmt.Sprintf("removed from the manager's node; a manager cannot remove it from the others (%s): on each that ran a task mounting it, run docker volume rm %s",
			strings.Join(others, ", "), name))
	}
	return nil
}

// removeWhenFree calls remove until it succeeds or finds nothing to
// remove, polling while what it removes is in use: Swarm removes a removed
// service's containers on each node in its own time.
func removeWhenFree(ctx context.Context, deadline time.Time, what string, remove func() error) error {
	var last error
	err := pollUntil(ctx, deadline, func() (bool, error) {
		last = remove()
		switch {
		case last == nil || cerrdefs.IsNotFound(last):
			return true, nil
		case !strings.Contains(last.Error(), "in use") && !strings.Contains(last.Error(), "active endpoints"):
			return true, fmt.Errorf("removing %s: %w", what, last)
		}
		return false, nil
	})
	if errors.Is(err, errDeadline) {
		return fmt.Errorf("removing %s: still in use %s after the project's services were removed (%w): another stack's service or container may use it", what, freeTimeout, last)
	}
	return err
}

var errDeadline = errors.New("deadline passed")

// pollUntil calls check every pollInterval until it is done, ctx ends, or the
// deadline passes (errDeadline).
func pollUntil(ctx context.Context, deadline time.Time, check func() (bool, error)) error {
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		done, err := check()
		if done || err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return errDeadline
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

func (x *executor) createObject(ctx context.Context, p *createObject) error {
	o := p.object
	if o.Key == "" {
		return fmt.Errorf("creating %s %q: not in the mapped project", p.kind, o.Name)
	}
	ids := x.secretIDs
	if p.kind == "config" {
		ids = x.configIDs
	}
	var id string
	var err error
	if p.kind == "config" {
		var r swarm.ConfigCreateResponse
		r, err = x.d.client.ConfigCreate(ctx, o.ConfigSpec())
		id = r.ID
	} else {
		var r swarm.SecretCreateResponse
		r, err = x.d.client.SecretCreate(ctx, o.SecretSpec())
		id = r.ID
	}
	if cerrdefs.IsAlreadyExists(err) || cerrdefs.IsConflict(err) {
		// Made by a run that was interrupted: its name carries its
		// content's hash, so it is this very object.
		id, err = x.objectID(ctx, p.kind, o.Name)
	}
	if err != nil {
		return fmt.Errorf("creating %s %q: %w", p.kind, o.Name, err)
	}
	x.mu.Lock()
	ids[o.Name] = id
	x.mu.Unlock()
	return nil
}

// objectID looks a secret or config up by name.
func (x *executor) objectID(ctx context.Context, kind, name string) (string, error) {
	f := filters.NewArgs(filters.Arg("name", name))
	if kind == "config" {
		cs, err := x.d.client.ConfigList(ctx, swarm.ConfigListOptions{Filters: f})
		for _, c := range cs {
			if c.Spec.Name == name {
				return c.ID, nil
			}
		}
		return "", err
	}
	ss, err := x.d.client.SecretList(ctx, swarm.SecretListOptions{Filters: f})
	for _, s := range ss {
		if s.Spec.Name == name {
			return s.ID, nil
		}
	}
	return "", err
}

func (x *executor) removeObject(ctx context.Context, p *removeObject) error {
	var err error
	if p.kind == "config" {
		err = x.d.client.ConfigRemove(ctx, p.id)
	} else {
		err = x.d.client.SecretRemove(ctx, p.id)
	}
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("removing %s %q: %w", p.kind, p.name, err)
	}
	return nil
}

// spec is the service's desired spec with its objects' IDs, and the
// encoded registry credentials for its image.
func (x *executor) spec(ctx context.Context, s Service) (swarm.ServiceSpec, string, error) {
	service := s.Name
	x.mu.Lock()
	spec, err := s.Resolve(x.secretIDs, x.configIDs)
	x.mu.Unlock()
	if err != nil {
		return spec, "", err
	}
	img := spec.TaskTemplate.ContainerSpec.Image
	if img == unresolved {
		return spec, "", fmt.Errorf("service %q: its image was not resolved to a digest", service)
	}
	auth := ""
	if x.d.images != nil {
		if auth, err = x.d.images.RegistryAuth(ctx, img); err != nil {
			return spec, "", fmt.Errorf("service %q: %w", service, err)
		}
	}
	return spec, auth, nil
}

func (x *executor) createService(ctx context.Context, p *createService, notes engine.Notes) error {
	spec, auth, err := x.spec(ctx, p.spec)
	if err != nil {
		return err
	}
	r, err := x.d.client.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{EncodedRegistryAuth: auth})
	if err != nil {
		return fmt.Errorf("creating service %s: %w", spec.Name, err)
	}
	warn(notes, r.Warnings)
	return nil
}

// updateService sends the desired spec to the service at the version
// observed: a change made since (another deploy) makes the manager refuse
// it rather than lose it. The force counter is the observed one, raised to
// restart the tasks when asked: any other value would restart them too.
func (x *executor) updateService(ctx context.Context, p *updateService, notes engine.Notes) error {
	if p.restart {
		return x.restartService(ctx, p.current, notes)
	}
	spec, auth, err := x.spec(ctx, p.spec)
	if err != nil {
		return err
	}
	spec.TaskTemplate.ForceUpdate = p.current.ForceUpdate
	if p.force {
		spec.TaskTemplate.ForceUpdate++
	}
	r, err := x.d.client.ServiceUpdate(ctx, p.current.ID, swarm.Version{Index: p.current.Version}, spec, swarm.ServiceUpdateOptions{EncodedRegistryAuth: auth})
	if err != nil {
		return fmt.Errorf("updating service %s: %w", spec.Name, err)
	}
	warn(notes, r.Warnings)
	return nil
}

// restartService restarts a service's tasks with the spec it has: the
// credentials it was given stay with it (registryAuthFrom spec).
func (x *executor) restartService(ctx context.Context, cur ObservedService, notes engine.Notes) error {
	svc, _, err := x.d.client.ServiceInspectWithRaw(ctx, cur.ID, swarm.ServiceInspectOptions{})
	if err != nil {
		return fmt.Errorf("inspecting service %s: %w", cur.Name, err)
	}
	spec := svc.Spec
	spec.TaskTemplate.ForceUpdate++
	r, err := x.d.client.ServiceUpdate(ctx, svc.ID, svc.Version, spec, swarm.ServiceUpdateOptions{RegistryAuthFrom: swarm.RegistryAuthFromSpec})
	if err != nil {
		return fmt.Errorf("restarting service %s: %w", cur.Name, err)
	}
	warn(notes, r.Warnings)
	return nil
}

// warn passes on the warnings the manager answered a call with.
func warn(notes engine.Notes, warnings []string) {
	for _, w := range warnings {
		notes.Warn(w)
	}
}

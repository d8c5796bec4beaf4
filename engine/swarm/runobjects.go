package swarm

import (
	"context"
	"fmt"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
)

// createMissing creates the secrets and configs a one-off job of s mounts
// that the manager does not have yet, adding their IDs to secretIDs and
// configIDs: a release phase's before step runs ahead of the deploy that
// would create them (a first deploy, or a secret whose content changed,
// which gives it a new name). They are made as the deploy makes them, so
// its own creation finds them there; external ones are left to Resolve,
// which names what is missing.
func (d *Driver) createMissing(ctx context.Context, desired *Desired, s Service, secretIDs, configIDs map[string]string) error {
	cs := s.Spec.TaskTemplate.ContainerSpec
	if cs == nil {
		return nil
	}
	for _, r := range cs.Secrets {
		if err := d.createObjectOnce(ctx, "secret", desired.Secrets, r.SecretName, secretIDs); err != nil {
			return err
		}
	}
	for _, r := range cs.Configs {
		if err := d.createObjectOnce(ctx, "config", desired.Configs, r.ConfigName, configIDs); err != nil {
			return err
		}
	}
	return nil
}

// createObjectOnce creates the object of objs named name unless ids has
// it, or it is external.
func (d *Driver) createObjectOnce(ctx context.Context, kind string, objs []Object, name string, ids map[string]string) error {
	if ids[name] != "" {
		return nil
	}
	var o *Object
	for i := range objs {
		if objs[i].Name == name && !objs[i].External {
			o = &objs[i]
		}
	}
	if o == nil {
		return nil
	}
	var id string
	var err error
	if kind == "config" {
		var r swarm.ConfigCreateResponse
		r, err = d.client.ConfigCreate(ctx, o.ConfigSpec())
		id = r.ID
	} else {
		var r swarm.SecretCreateResponse
		r, err = d.client.SecretCreate(ctx, o.SecretSpec())
		id = r.ID
	}
	if cerrdefs.IsAlreadyExists(err) || cerrdefs.IsConflict(err) {
		id, err = d.lookupObject(ctx, kind, name) // made meanwhile by another run
	}
	if err != nil {
		return fmt.Errorf("creating %s %q for the one-off job: %w", kind, name, err)
	}
	ids[name] = id
	return nil
}

// lookupObject finds a secret's or config's ID by its name.
func (d *Driver) lookupObject(ctx context.Context, kind, name string) (string, error) {
	f := filters.NewArgs(filters.Arg("name", name))
	if kind == "config" {
		cs, err := d.client.ConfigList(ctx, swarm.ConfigListOptions{Filters: f})
		for _, c := range cs {
			if c.Spec.Name == name {
				return c.ID, err
			}
		}
		return "", err
	}
	ss, err := d.client.SecretList(ctx, swarm.SecretListOptions{Filters: f})
	for _, s := range ss {
		if s.Spec.Name == name {
			return s.ID, err
		}
	}
	return "", err
}

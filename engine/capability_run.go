package engine

import (
	"fmt"
	"maps"
	"slices"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stack-deploy/stack/manifest"
)

// RunRefusal is a flag of `stack run` an orchestrator cannot honour: its
// name as the user typed it, whether RunOptions set it, and what to do
// instead.
type RunRefusal struct {
	Flag string
	Set  bool
	Why  string
}

// RefuseRun returns an ErrUnsupported error naming the first refusal that
// is set, nil when none is: what a RunChecker returns.
func RefuseRun(orchestrator string, refusals []RunRefusal) error {
	for _, r := range refusals {
		if r.Set {
			return fmt.Errorf("stack run %s: %w by the %s orchestrator: %s", r.Flag, ErrUnsupported, orchestrator, r.Why)
		}
	}
	return nil
}

// Capabilities are a service's added and dropped capabilities with o's
// applied, as compose run applies --cap-add and --cap-drop: the command
// line wins over the manifest (a capability added is no longer dropped, one
// dropped no longer added). add and drop are not changed.
func (o RunOptions) Capabilities(add, drop []string) (newAdd, newDrop []string) {
	newAdd, newDrop = slices.Clone(add), slices.Clone(drop)
	if len(o.CapAdd) > 0 {
		newDrop = slices.DeleteFunc(newDrop, func(c string) bool { return slices.Contains(o.CapAdd, c) })
		newAdd = append(newAdd, o.CapAdd...)
	}
	if len(o.CapDrop) > 0 {
		newAdd = slices.DeleteFunc(newAdd, func(c string) bool { return slices.Contains(o.CapDrop, c) })
		newDrop = append(newDrop, o.CapDrop...)
	}
	return newAdd, newDrop
}

// WithLabels returns labels with o's added: a new map, labels is not
// changed.
func (o RunOptions) WithLabels(labels map[string]string) map[string]string {
	out := make(map[string]string, len(labels)+len(o.Labels))
	for k, v := range labels {
		out[k] = v
	}
	for k, v := range o.Labels {
		out[k] = v
	}
	return out
}

// OneOffService is svc as its one-off runs it: o's user, working directory,
// labels, capabilities, volumes and ports applied, as compose run applies
// them, on a copy (svc is left as it was). A driver maps it as it maps any
// service, so the flags mean on every orchestrator what the manifest's
// fields of the same name mean there.
func (o RunOptions) OneOffService(svc types.ServiceConfig) types.ServiceConfig {
	if o.User != "" {
		svc.User = o.User
	}
	if o.WorkingDir != "" {
		svc.WorkingDir = o.WorkingDir
	}
	if len(o.Labels) > 0 {
		svc.Labels = o.WithLabels(svc.Labels)
	}
	svc.CapAdd, svc.CapDrop = o.Capabilities(svc.CapAdd, svc.CapDrop)
	if len(o.Volumes) > 0 {
		svc.Volumes = append(slices.Clone(svc.Volumes), o.Volumes...)
	}
	if len(o.Publish) > 0 {
		svc.Ports = o.Publish
	}
	return svc
}

// OneOffProject is p with o.Service as its one-off runs it (OneOffService),
// for a driver that maps the whole project; p is left as it was.
func (o RunOptions) OneOffProject(p *manifest.Project) *manifest.Project {
	svc, ok := p.Project.Services[o.Service]
	if !ok {
		return p
	}
	proj := *p.Project
	proj.Services = maps.Clone(p.Project.Services)
	proj.Services[o.Service] = o.OneOffService(svc)
	cp := *p
	cp.Project = &proj
	return &cp
}

package engine

import (
	"fmt"

	"github.com/stack-deploy/stack/manifest"
)

// StopServices plans stopping the running containers of the named services (all
// when none): a service stops after every selected service that depends on
// it, so nothing loses a dependency while it runs. It is pure.
func StopServices(m *manifest.Project, images Images, obs *Observed, services []string) (*Plan, error) {
	return lifecycle(m, images, obs, services, Stop, func(c Container) bool { return c.Running() })
}

// StartServices plans starting the stopped containers of the named services
// (all when none), dependencies first, each waited for as up waits for it
// (started, healthy or completed). It creates nothing: a service without
// containers is left out, or an error when it was named. It is pure.
func StartServices(m *manifest.Project, images Images, obs *Observed, services []string) (*Plan, error) {
	return lifecycle(m, images, obs, services, Start, func(c Container) bool { return !c.Running() })
}

// RestartServices plans restarting every container of the named services
// (all when none), dependencies first. It is pure.
func RestartServices(m *manifest.Project, images Images, obs *Observed, services []string) (*Plan, error) {
	return lifecycle(m, images, obs, services, Restart, func(Container) bool { return true })
}

// lifecycle plans kind on the containers of services that match, ordered by
// depends_on: dependencies first, or dependants first for Stop.
// images say which images declare a healthcheck, so starting waits as up
// does.
func lifecycle(m *manifest.Project, images Images, obs *Observed, services []string, kind Kind, match func(Container) bool) (*Plan, error) {
	if obs == nil {
		obs = &Observed{}
	}
	order, err := SelectServices(m, services, true)
	if err != nil {
		return nil, err
	}
	p := m.Project
	selected := map[string]bool{}
	for _, name := range order {
		selected[name] = true
	}
	plan := &Plan{Project: p.Name, Desired: m, Observed: obs}
	// A routed container leaves and joins the gateway's routes.
	if plan.Gateway, _, err = DesiredGateway(m); err != nil {
		return nil, err
	}
	waits := waitedFor(p, selected)
	planned := map[string]bool{}
	for _, name := range order {
		a := &Action{Resource: "service:" + name, Kind: kind, Reason: "asked for"}
		if kind == Start && len(services) > 0 && len(obs.ServiceContainers(name)) == 0 {
			// As Compose: start only starts; naming a service with nothing to
			// start is a mistake.
			return nil, fmt.Errorf("service %q has no container to start: create it with `stack up %s`", name, name)
		}
		for _, c := range obs.ServiceContainers(name) {
			if match(c) {
				a.Replicas = append(a.Replicas, Replica{Number: c.Number, Kind: kind, Container: &c})
			}
		}
		if len(a.Replicas) == 0 {
			continue
		}
		if kind != Stop {
			a.Ready = readiness(p.Services[name], images[name], waits)
		}
		planned[name] = true
		plan.Actions = append(plan.Actions, a)
	}
	for _, a := range plan.Actions {
		for _, other := range plan.Actions {
			switch {
			case kind == Stop && dependsOn(m, other.Name(), a.Name()):
				a.WaitsFor = append(a.WaitsFor, other.Resource)
			case kind != Stop && dependsOn(m, a.Name(), other.Name()):
				a.WaitsFor = append(a.WaitsFor, other.Resource)
			}
		}
	}
	if g := obs.Gateway; g != nil && m.Stack.Gateway != nil {
		// The gateway stays as it is; routed containers that stop leave
		// its routes first, those that start join them once ready.
		c := g.Container
		plan.Actions = append(plan.Actions, &Action{Resource: GatewayResource, Kind: Unchanged,
			Replicas: []Replica{{Number: 1, Kind: Unchanged, Container: &c}}})
	}
	return plan, nil
}

// dependsOn reports whether service a declares a dependency on service b.
func dependsOn(m *manifest.Project, a, b string) bool {
	_, ok := m.Project.Services[a].DependsOn[b]
	return ok && a != b
}

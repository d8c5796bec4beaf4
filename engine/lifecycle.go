package engine

import (
	"fmt"

	"github.com/stack-deploy/stack/manifest"
)

// StopServices plans stopping the running replicas of the named services (all
// when none): a service stops after every selected service that depends on
// it, so nothing loses a dependency while it runs. It is pure.
func StopServices(m *manifest.Project, images Images, obs *Observed, services []string) (*Plan, error) {
	return lifecycle(m, images, obs, services, Stop, func(s *ServiceState) bool { return s.Running > 0 })
}

// StartServices plans starting the stopped replicas of the named services
// (all when none), dependencies first, each waited for as up waits for it
// (started, healthy or completed). It creates nothing: a service without
// replicas is left out, or an error when it was named. It is pure.
func StartServices(m *manifest.Project, images Images, obs *Observed, services []string) (*Plan, error) {
	return lifecycle(m, images, obs, services, Start, func(s *ServiceState) bool { return s.Running < s.Replicas })
}

// RestartServices plans restarting every replica of the named services
// (all when none), dependencies first. It is pure.
func RestartServices(m *manifest.Project, images Images, obs *Observed, services []string) (*Plan, error) {
	return lifecycle(m, images, obs, services, Restart, func(s *ServiceState) bool { return s.Replicas > 0 })
}

// lifecycle plans kind on the services whose state matches, ordered by
// depends_on: dependencies first, or dependants first for Stop.
// images say which images declare a healthcheck, so starting waits as up
// does.
func lifecycle(m *manifest.Project, images Images, obs *Observed, services []string, kind Kind, match func(*ServiceState) bool) (*Plan, error) {
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
		st := obs.Service(name)
		if kind == Start && len(services) > 0 && (st == nil || st.Replicas == 0) {
			// As Compose: start only starts; naming a service with nothing to
			// start is a mistake.
			return nil, fmt.Errorf("service %q has no container to start: create it with `stack up %s`", name, name)
		}
		if st == nil || !match(st) {
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
	if obs.Gateway != nil && m.Stack.Gateway != nil {
		// The gateway stays as it is; routed replicas that stop leave its
		// routes first, those that start join them once ready.
		plan.Actions = append(plan.Actions, &Action{Resource: GatewayResource, Kind: Unchanged})
	}
	return plan, nil
}

// dependsOn reports whether service a declares a dependency on service b.
func dependsOn(m *manifest.Project, a, b string) bool {
	_, ok := m.Project.Services[a].DependsOn[b]
	return ok && a != b
}

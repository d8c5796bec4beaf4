package swarm

import (
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/swarm"
)

// mode maps deploy.mode and the replica count (deploy.replicas, else
// scale, else 1). A service others wait for with
// service_completed_successfully runs as a job: replicated-job, or
// global-job when it is global. It reports whether the result is a job.
func (m *mapper) mode(s types.ServiceConfig, completes bool) (swarm.ServiceMode, bool) {
	var mode string
	replicas := s.Scale
	if s.Deploy != nil {
		mode = s.Deploy.Mode
		if s.Deploy.Replicas != nil {
			replicas = s.Deploy.Replicas
		}
	}
	n := uint64(1)
	if replicas != nil {
		if *replicas < 0 {
			m.fail(s.Name, "deploy.replicas", fmt.Errorf("%w: %d is negative", ErrInvalid, *replicas))
			return swarm.ServiceMode{}, false
		}
		n = uint64(*replicas)
	}
	global := func() {
		if replicas != nil {
			m.fail(s.Name, "deploy.replicas", fmt.Errorf("%w: a %s service runs one task per node; remove replicas or use replicated", ErrInvalid, mode))
		}
	}
	switch {
	case (mode == "" || mode == "replicated") && completes, mode == "replicated-job":
		return swarm.ServiceMode{ReplicatedJob: &swarm.ReplicatedJob{MaxConcurrent: &n, TotalCompletions: &n}}, true
	case mode == "" || mode == "replicated":
		return swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &n}}, false
	case mode == "global" && completes, mode == "global-job":
		global()
		return swarm.ServiceMode{GlobalJob: &swarm.GlobalJob{}}, true
	case mode == "global":
		global()
		return swarm.ServiceMode{Global: &swarm.GlobalService{}}, false
	}
	m.fail(s.Name, "deploy.mode", fmt.Errorf("%w: %q; use replicated, global, replicated-job or global-job", ErrInvalid, mode))
	return swarm.ServiceMode{}, false
}

// resources maps deploy.resources, with mem_limit, cpus, pids_limit and
// mem_reservation as fallbacks when deploy.resources leaves them out.
func (m *mapper) resources(s types.ServiceConfig) *swarm.ResourceRequirements {
	lim := swarm.Limit{MemoryBytes: int64(s.MemLimit), NanoCPUs: nanoCPUs(s.CPUS), Pids: s.PidsLimit}
	res := swarm.Resources{MemoryBytes: int64(s.MemReservation)}
	if d := s.Deploy; d != nil {
		if l := d.Resources.Limits; l != nil {
			if l.MemoryBytes != 0 {
				lim.MemoryBytes = int64(l.MemoryBytes)
			}
			if l.NanoCPUs != 0 {
				lim.NanoCPUs = nanoCPUs(l.NanoCPUs.Value())
			}
			if l.Pids != 0 {
				lim.Pids = l.Pids
			}
			if len(l.Devices) > 0 || len(l.GenericResources) > 0 {
				m.warn(s.Name, "deploy.resources.limits devices/generic_resources", "Swarm limits memory, CPUs and pids only")
			}
		}
		if r := d.Resources.Reservations; r != nil {
			if r.MemoryBytes != 0 {
				res.MemoryBytes = int64(r.MemoryBytes)
			}
			res.NanoCPUs = nanoCPUs(r.NanoCPUs.Value())
			for _, g := range r.GenericResources {
				if g.DiscreteResourceSpec != nil {
					res.GenericResources = append(res.GenericResources, swarm.GenericResource{
						DiscreteResourceSpec: &swarm.DiscreteGenericResource{Kind: g.DiscreteResourceSpec.Kind, Value: g.DiscreteResourceSpec.Value},
					})
				}
			}
			if len(r.Devices) > 0 {
				m.warn(s.Name, "deploy.resources.reservations.devices", "Swarm reserves generic resources, not devices; use generic_resources")
			}
		}
	}
	var out swarm.ResourceRequirements
	if lim != (swarm.Limit{}) {
		out.Limits = &lim
	}
	if res.MemoryBytes != 0 || res.NanoCPUs != 0 || len(res.GenericResources) > 0 {
		out.Reservations = &res
	}
	if out.Limits == nil && out.Reservations == nil {
		return nil
	}
	return &out
}

// nanoCPUs converts a CPU count to billionths, from its shortest decimal
// form: 0.1 is 100000000, not float32's 100000001.
func nanoCPUs(cpus float32) int64 {
	if cpus == 0 {
		return 0
	}
	r, _ := new(big.Rat).SetString(strconv.FormatFloat(float64(cpus), 'f', -1, 32))
	n, _ := r.Mul(r, big.NewRat(1e9, 1)).Float64()
	return int64(n)
}

// restartPolicy maps deploy.restart_policy, else the single-engine restart:
// no -> none, always and unless-stopped -> any, on-failure[:N]. Neither set
// leaves Swarm's default, any, as docker stack deploy does.
func (m *mapper) restartPolicy(s types.ServiceConfig) *swarm.RestartPolicy {
	if s.Deploy != nil && s.Deploy.RestartPolicy != nil {
		rp := s.Deploy.RestartPolicy
		if s.Restart != "" {
			m.warn(s.Name, "restart", "deploy.restart_policy is set and wins")
		}
		switch rp.Condition {
		case "", "none", "on-failure", "any":
		default:
			m.fail(s.Name, "deploy.restart_policy.condition", fmt.Errorf("%w: %q; use none, on-failure or any", ErrInvalid, rp.Condition))
		}
		return &swarm.RestartPolicy{
			Condition:   swarm.RestartPolicyCondition(rp.Condition),
			Delay:       duration(rp.Delay),
			MaxAttempts: rp.MaxAttempts,
			Window:      duration(rp.Window),
		}
	}
	name, count, _ := strings.Cut(s.Restart, ":")
	var attempts *uint64
	if count != "" {
		n, err := strconv.ParseUint(count, 10, 64)
		if err != nil {
			m.fail(s.Name, "restart", fmt.Errorf("%w: %q: the retry count must be a number, as in on-failure:3", ErrInvalid, s.Restart))
			return nil
		}
		attempts = &n
	}
	switch name {
	case "":
		return nil
	case types.RestartPolicyNo:
		return &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionNone}
	case types.RestartPolicyAlways, types.RestartPolicyUnlessStopped:
		return &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionAny, MaxAttempts: attempts}
	case types.RestartPolicyOnFailure:
		return &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionOnFailure, MaxAttempts: attempts}
	}
	m.fail(s.Name, "restart", fmt.Errorf("%w: %q; use no, always, unless-stopped or on-failure[:N]", ErrInvalid, s.Restart))
	return nil
}

func duration(d *types.Duration) *time.Duration {
	if d == nil {
		return nil
	}
	v := time.Duration(*d)
	return &v
}

// placement maps deploy.placement, and platform as the nodes' platform.
func (m *mapper) placement(s types.ServiceConfig, mode swarm.ServiceMode) *swarm.Placement {
	p := swarm.Placement{}
	if d := s.Deploy; d != nil {
		p.Constraints = slices.Clone(d.Placement.Constraints)
		for _, pref := range d.Placement.Preferences {
			p.Preferences = append(p.Preferences, swarm.PlacementPreference{Spread: &swarm.SpreadOver{SpreadDescriptor: pref.Spread}})
		}
		if n := d.Placement.MaxReplicas; n > 0 {
			if mode.Global != nil || mode.GlobalJob != nil {
				m.warn(s.Name, "deploy.placement.max_replicas_per_node", "a global service runs one task per node")
			} else {
				p.MaxReplicas = n
			}
		}
	}
	if s.Platform != "" {
		parts := strings.Split(s.Platform, "/")
		if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
			m.fail(s.Name, "platform", fmt.Errorf("%w: %q; write os/architecture, as linux/amd64", ErrInvalid, s.Platform))
		} else {
			if len(parts) > 2 {
				m.warn(s.Name, "platform variant "+parts[2], "Swarm places by os and architecture only")
			}
			p.Platforms = []swarm.Platform{{OS: parts[0], Architecture: parts[1]}}
		}
	}
	if len(p.Constraints) == 0 && len(p.Preferences) == 0 && p.MaxReplicas == 0 && len(p.Platforms) == 0 {
		return nil
	}
	return &p
}

// updateConfig maps update_config or rollback_config (field). Parallelism
// defaults to 1, as in Swarm (0 would update every task at once). An update
// that fails is rolled back unless failure_action says otherwise, so a
// failed deploy leaves the last good version running.
func (m *mapper) updateConfig(s types.ServiceConfig, field string, u *types.UpdateConfig) *swarm.UpdateConfig {
	rollback := field == "deploy.rollback_config"
	c := &swarm.UpdateConfig{Parallelism: 1}
	if !rollback {
		c.FailureAction = swarm.UpdateFailureActionRollback
	}
	if u == nil {
		if rollback {
			return nil
		}
		return c
	}
	if u.Parallelism != nil {
		c.Parallelism = *u.Parallelism
	}
	c.Delay, c.Monitor, c.MaxFailureRatio = time.Duration(u.Delay), time.Duration(u.Monitor), u.MaxFailureRatio
	switch u.FailureAction {
	case "":
	case swarm.UpdateFailureActionPause, swarm.UpdateFailureActionContinue:
		c.FailureAction = u.FailureAction
	case swarm.UpdateFailureActionRollback:
		if rollback {
			m.fail(s.Name, field+".failure_action", fmt.Errorf("%w: a rollback cannot roll back; use pause or continue", ErrInvalid))
		}
		c.FailureAction = u.FailureAction
	default:
		m.fail(s.Name, field+".failure_action", fmt.Errorf("%w: %q; use pause, continue or rollback", ErrInvalid, u.FailureAction))
	}
	switch u.Order {
	case "", swarm.UpdateOrderStopFirst, swarm.UpdateOrderStartFirst:
		c.Order = u.Order
	default:
		m.fail(s.Name, field+".order", fmt.Errorf("%w: %q; use stop-first or start-first", ErrInvalid, u.Order))
	}
	return c
}

// endpoint maps deploy.endpoint_mode and the published ports: ingress (the
// routing mesh, on every node) or host (on the node running the task).
func (m *mapper) endpoint(s types.ServiceConfig) *swarm.EndpointSpec {
	e := &swarm.EndpointSpec{Mode: swarm.ResolutionModeVIP}
	if s.Deploy != nil && s.Deploy.EndpointMode != "" {
		switch mode := swarm.ResolutionMode(strings.ToLower(s.Deploy.EndpointMode)); mode {
		case swarm.ResolutionModeVIP, swarm.ResolutionModeDNSRR:
			e.Mode = mode
		default:
			m.fail(s.Name, "deploy.endpoint_mode", fmt.Errorf("%w: %q; use vip or dnsrr", ErrInvalid, s.Deploy.EndpointMode))
		}
	}
	for _, p := range s.Ports {
		field := fmt.Sprintf("ports %d", p.Target)
		pc := swarm.PortConfig{Name: p.Name, TargetPort: p.Target, Protocol: swarm.PortConfigProtocolTCP, PublishMode: swarm.PortConfigPublishModeIngress}
		switch p.Protocol {
		case "", "tcp":
		case "udp", "sctp":
			pc.Protocol = swarm.PortConfigProtocol(p.Protocol)
		default:
			m.fail(s.Name, field+": protocol", fmt.Errorf("%w: %q; use tcp, udp or sctp", ErrInvalid, p.Protocol))
		}
		switch p.Mode {
		case "", "ingress":
		case "host":
			pc.PublishMode = swarm.PortConfigPublishModeHost
		default:
			m.fail(s.Name, field+": mode", fmt.Errorf("%w: %q; use ingress or host", ErrInvalid, p.Mode))
		}
		if p.Published != "" {
			first, last, isRange := strings.Cut(p.Published, "-")
			n, err := strconv.ParseUint(first, 10, 16)
			if err != nil || (isRange && last != first) {
				m.fail(s.Name, field+": published", fmt.Errorf("%w: %q; Swarm publishes one port per target, as 8080", ErrInvalid, p.Published))
			}
			pc.PublishedPort = uint32(n)
		}
		if p.HostIP != "" {
			m.warn(s.Name, field+": host_ip", "Swarm publishes on every address of a node")
		}
		if p.AppProtocol != "" {
			m.warn(s.Name, field+": app_protocol", "Swarm ports carry no application protocol")
		}
		if e.Mode == swarm.ResolutionModeDNSRR && pc.PublishMode == swarm.PortConfigPublishModeIngress {
			m.fail(s.Name, field, fmt.Errorf("%w: endpoint_mode dnsrr cannot publish through the ingress routing mesh; publish with mode: host", ErrInvalid))
		}
		e.Ports = append(e.Ports, pc)
	}
	return e
}

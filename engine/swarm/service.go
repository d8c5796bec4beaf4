package swarm

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/swarm"

	"github.com/stack-deploy/stack/engine"
)

// maxServiceName is Swarm's limit on service names: a DNS label.
const maxServiceName = 63

// service maps one compose service; completes says others wait for it to
// complete. It reports false when the service has errors (recorded in m).
func (m *mapper) service(s types.ServiceConfig, completes bool) (Service, bool) {
	failed := m.failures
	if name := ServiceName(m.p.Name, s.Name); len(name) > maxServiceName {
		m.fail(s.Name, "name", fmt.Errorf("%w: the Swarm service %s is longer than %d characters; shorten the project or service name", ErrInvalid, name, maxServiceName))
	}
	cs := m.containerSpec(s)
	var deployLabels map[string]string
	if s.Deploy != nil {
		deployLabels = s.Deploy.Labels
	}
	mode, job := m.mode(s, completes)
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{
			Name:   ServiceName(m.p.Name, s.Name),
			Labels: stackLabels(deployLabels, engine.LabelProject, m.p.Name, engine.LabelService, s.Name),
		},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: cs,
			Resources:     m.resources(s),
			RestartPolicy: m.restartPolicy(s),
			Placement:     m.placement(s, mode),
			Networks:      m.attachments(s),
			LogDriver:     m.logDriver(s),
		},
		Mode:         mode,
		EndpointSpec: m.endpoint(s),
	}
	m.updates(s, &spec, job)
	m.unsupported(s)
	if m.failures > failed {
		return Service{}, false
	}
	hash, err := specHash(spec)
	if err != nil {
		m.fail(s.Name, "hash", err)
		return Service{}, false
	}
	spec.Labels[engine.LabelConfigHash] = hash.Sum
	spec.Labels[engine.LabelConfigParts] = hash.PartsLabel()
	return Service{Name: s.Name, Spec: spec, Hash: hash, Job: job}, true
}

// containerSpec is the container the service's tasks run.
func (m *mapper) containerSpec(s types.ServiceConfig) *swarm.ContainerSpec {
	cs := &swarm.ContainerSpec{
		Image:           m.image(s),
		Labels:          stackLabels(s.Labels, engine.LabelProject, m.p.Name, engine.LabelService, s.Name),
		Command:         m.command(s, "entrypoint", s.Entrypoint),
		Args:            m.command(s, "command", s.Command),
		Hostname:        s.Hostname,
		Env:             environment(s.Environment),
		Dir:             s.WorkingDir,
		User:            s.User,
		Groups:          s.GroupAdd,
		Privileges:      m.privileges(s),
		Init:            s.Init,
		StopSignal:      s.StopSignal,
		TTY:             s.Tty,
		OpenStdin:       s.StdinOpen,
		ReadOnly:        s.ReadOnly,
		Mounts:          m.mounts(s),
		StopGracePeriod: duration(s.StopGracePeriod),
		Healthcheck:     m.healthcheck(s),
		Hosts:           extraHosts(s.ExtraHosts),
		Secrets:         m.secretRefs(s),
		Configs:         m.configRefs(s),
		Isolation:       container.Isolation(s.Isolation),
		Sysctls:         s.Sysctls,
		CapabilityAdd:   sortedCopy(s.CapAdd),
		CapabilityDrop:  sortedCopy(s.CapDrop),
		Ulimits:         ulimits(s.Ulimits),
	}
	if len(s.DNS) > 0 || len(s.DNSSearch) > 0 || len(s.DNSOpts) > 0 {
		cs.DNSConfig = &swarm.DNSConfig{Nameservers: s.DNS, Search: s.DNSSearch, Options: s.DNSOpts}
	}
	if s.OomScoreAdj != 0 && !m.tooOld(s.Name, "oom_score_adj", "1.46") {
		cs.OomScoreAdj = s.OomScoreAdj
	}
	return cs
}

// updates sets how the service is updated and rolled back; a job, run
// again rather than updated, runs once.
func (m *mapper) updates(s types.ServiceConfig, spec *swarm.ServiceSpec, job bool) {
	if job {
		if spec.TaskTemplate.RestartPolicy == nil {
			// Run once, as a one-shot container does on one engine: a job
			// that fails is the dependants' failure, not retried for ever.
			spec.TaskTemplate.RestartPolicy = &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionNone}
		}
		if s.Deploy != nil && (s.Deploy.UpdateConfig != nil || s.Deploy.RollbackConfig != nil) {
			m.warn(s.Name, "deploy.update_config/rollback_config", "the service runs as a job, and a job is run again, not updated")
		}
	} else {
		var update, rollback *types.UpdateConfig
		if s.Deploy != nil {
			update, rollback = s.Deploy.UpdateConfig, s.Deploy.RollbackConfig
		}
		spec.UpdateConfig = m.updateConfig(s, "deploy.update_config", update)
		spec.RollbackConfig = m.updateConfig(s, "deploy.rollback_config", rollback)
	}
}

// image is the service's digest reference from Options.Images.
func (m *mapper) image(s types.ServiceConfig) string {
	ref := m.opts.Images[s.Name]
	if ref == "" {
		m.fail(s.Name, "image", fmt.Errorf("%w: no digest was resolved for %q", ErrNotPinned, s.Image))
		return ""
	}
	named, err := reference.ParseNormalizedNamed(ref)
	if _, ok := named.(reference.Canonical); err != nil || !ok {
		m.fail(s.Name, "image", fmt.Errorf("%w: %q is not a digest reference (repo@sha256:...)", ErrNotPinned, ref))
	}
	return ref
}

// command copies an entrypoint or command. An empty one (`entrypoint: []`)
// clears the image's on one engine; Swarm takes empty for unset and runs
// the image's.
func (m *mapper) command(s types.ServiceConfig, field string, c types.ShellCommand) []string {
	if c != nil && len(c) == 0 {
		m.warn(s.Name, field+": []", "Swarm cannot clear the image's; it runs the image's "+field)
	}
	return slices.Clone([]string(c))
}

func environment(env types.MappingWithEquals) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		if v != nil { // unset: left out, as on one engine
			out = append(out, k+"="+*v)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil
	}
	return out
}

func (m *mapper) healthcheck(s types.ServiceConfig) *container.HealthConfig {
	h := s.HealthCheck
	if h == nil {
		return nil
	}
	if h.Disable {
		return &container.HealthConfig{Test: []string{"NONE"}}
	}
	hc := &container.HealthConfig{Test: h.Test}
	set := func(d *types.Duration, to *time.Duration) {
		if d != nil {
			*to = time.Duration(*d)
		}
	}
	set(h.Interval, &hc.Interval)
	set(h.Timeout, &hc.Timeout)
	set(h.StartPeriod, &hc.StartPeriod)
	if h.StartInterval != nil && !m.tooOld(s.Name, "healthcheck.start_interval", "1.44") {
		set(h.StartInterval, &hc.StartInterval)
	}
	if h.Retries != nil {
		hc.Retries = int(*h.Retries)
	}
	return hc
}

// privileges maps the security_opt entries Swarm has fields for.
func (m *mapper) privileges(s types.ServiceConfig) *swarm.Privileges {
	var p swarm.Privileges
	for _, o := range s.SecurityOpt {
		k, v, _ := strings.Cut(o, "=")
		if k == o {
			k, v, _ = strings.Cut(o, ":")
		}
		field := "security_opt " + o
		switch {
		case k == "no-new-privileges" && (v == "" || v == "true"):
			p.NoNewPrivileges = !m.tooOld(s.Name, field, "1.44")
		case k == "no-new-privileges" && v == "false":
		case k == "seccomp" && v == "unconfined":
			if !m.tooOld(s.Name, field, "1.44") {
				p.Seccomp = &swarm.SeccompOpts{Mode: swarm.SeccompModeUnconfined}
			}
		case k == "apparmor" && v == "unconfined":
			if !m.tooOld(s.Name, field, "1.44") {
				p.AppArmor = &swarm.AppArmorOpts{Mode: swarm.AppArmorModeDisabled}
			}
		case k == "label":
			m.selinux(s, &p, field, v)
		default:
			m.warn(s.Name, field, "Swarm has no field for it")
		}
	}
	if p == (swarm.Privileges{}) {
		return nil
	}
	return &p
}

// selinux maps label=disable and label=user:X (role, type, level).
func (m *mapper) selinux(s types.ServiceConfig, p *swarm.Privileges, field, v string) {
	if p.SELinuxContext == nil {
		p.SELinuxContext = &swarm.SELinuxContext{}
	}
	c := p.SELinuxContext
	key, val, _ := strings.Cut(v, ":")
	switch key {
	case "disable":
		c.Disable = true
	case "user":
		c.User = val
	case "role":
		c.Role = val
	case "type":
		c.Type = val
	case "level":
		c.Level = val
	default:
		m.warn(s.Name, field, "Swarm knows label=disable, user, role, type and level")
	}
}

// extraHosts writes extra_hosts in the hosts-file form Swarm takes: "IP host".
func extraHosts(h types.HostsList) []string {
	var out []string
	for host, ips := range h {
		for _, ip := range ips {
			out = append(out, ip+" "+host)
		}
	}
	sort.Strings(out)
	return out
}

func ulimits(u map[string]*types.UlimitsConfig) []*container.Ulimit {
	var out []*container.Ulimit
	for _, name := range slices.Sorted(maps.Keys(u)) {
		l := u[name]
		soft, hard := int64(l.Soft), int64(l.Hard)
		if l.Single != 0 {
			soft, hard = int64(l.Single), int64(l.Single)
		}
		out = append(out, &container.Ulimit{Name: name, Soft: soft, Hard: hard})
	}
	return out
}

func (m *mapper) logDriver(s types.ServiceConfig) *swarm.Driver {
	switch {
	case s.Logging != nil && s.Logging.Driver != "":
		return &swarm.Driver{Name: s.Logging.Driver, Options: s.Logging.Options}
	case s.Logging != nil && len(s.Logging.Options) > 0:
		m.warn(s.Name, "logging.options", "Swarm takes log options with a driver only; name the driver")
	}
	return nil
}

// sortedCopy sorts a list whose order means nothing, so that writing it in
// another order changes no hash.
func sortedCopy(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	out := slices.Clone(l)
	sort.Strings(out)
	return out
}

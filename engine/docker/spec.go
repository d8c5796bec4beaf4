package docker

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/strslice"
	"github.com/docker/docker/api/types/versions"
	"github.com/docker/go-connections/nat"
	"github.com/docker/go-units"
)

// spec is everything ContainerCreate needs for one replica, plus the
// networks to connect after creation (engines before API 1.44 accept one
// network at creation).
type spec struct {
	config  *container.Config
	host    *container.HostConfig
	network *network.NetworkingConfig
	connect map[string]*network.EndpointSettings
}

// containerSpec maps a compose service to the Engine API's container
// configuration. Fields the engine cannot honour come back as warnings, one
// per field, never silently dropped.
func containerSpec(p *types.Project, s types.ServiceConfig, labels map[string]string, apiVersion string) (spec, []string, error) {
	var warnings []string
	warn := func(field, why string) {
		warnings = append(warnings, fmt.Sprintf("service %q: %s is not supported by the Docker engine driver (%s); it is ignored", s.Name, field, why))
	}
	cfg, err := config(s, labels, apiVersion, warn)
	if err != nil {
		return spec{}, nil, err
	}
	host := hostConfig(s)
	host.RestartPolicy, err = restartPolicy(s)
	if err != nil {
		return spec{}, nil, err
	}
	resources(s, &host.Resources, warn)
	if err := ports(s, cfg, host); err != nil {
		return spec{}, nil, err
	}
	mounts(p, s, apiVersion, host, warn)
	if err := fileMounts(p, s, host); err != nil {
		return spec{}, nil, err
	}
	sp := spec{config: cfg, host: host, network: &network.NetworkingConfig{}}
	networks(p, s, apiVersion, &sp, warn)
	unsupported(s, warn)
	return sp, warnings, nil
}

// config is the container's own configuration: image, command, environment,
// labels (the service's, beside stack's), healthcheck.
func config(s types.ServiceConfig, labels map[string]string, apiVersion string, warn func(field, why string)) (*container.Config, error) {
	for k, v := range s.Labels {
		if _, ours := labels[k]; !ours {
			labels[k] = v
		}
	}
	cfg := &container.Config{
		Image:        s.Image,
		Env:          environment(s.Environment),
		Labels:       labels,
		User:         s.User,
		WorkingDir:   s.WorkingDir,
		Hostname:     s.Hostname,
		Domainname:   s.DomainName,
		StopSignal:   s.StopSignal,
		Tty:          s.Tty,
		OpenStdin:    s.StdinOpen,
		ExposedPorts: nat.PortSet{},
	}
	if s.Command != nil {
		cfg.Cmd = strslice.StrSlice(s.Command)
	}
	if s.Entrypoint != nil {
		cfg.Entrypoint = strslice.StrSlice(s.Entrypoint)
	}
	if s.StopGracePeriod != nil {
		secs := int(time.Duration(*s.StopGracePeriod).Seconds())
		cfg.StopTimeout = &secs
	}
	hc, err := healthcheck(s.HealthCheck, apiVersion, warn)
	if err != nil {
		return nil, fmt.Errorf("service %q: healthcheck: %w", s.Name, err)
	}
	cfg.Healthcheck = hc
	return cfg, nil
}

// hostConfig is the host side of the container's configuration, but for
// its restart policy, resources, ports and mounts.
func hostConfig(s types.ServiceConfig) *container.HostConfig {
	host := &container.HostConfig{
		CapAdd:         s.CapAdd,
		CapDrop:        s.CapDrop,
		DNS:            s.DNS,
		DNSSearch:      s.DNSSearch,
		DNSOptions:     s.DNSOpts,
		ExtraHosts:     s.ExtraHosts.AsList(":"),
		Init:           s.Init,
		Privileged:     s.Privileged,
		ReadonlyRootfs: s.ReadOnly,
		SecurityOpt:    s.SecurityOpt,
		GroupAdd:       s.GroupAdd,
		ShmSize:        int64(s.ShmSize),
		Sysctls:        s.Sysctls,
		PidMode:        container.PidMode(s.Pid),
		IpcMode:        container.IpcMode(s.Ipc),
		UTSMode:        container.UTSMode(s.Uts),
		UsernsMode:     container.UsernsMode(s.UserNSMode),
		Runtime:        s.Runtime,
		OomScoreAdj:    int(s.OomScoreAdj),
		StorageOpt:     s.StorageOpt,
		CgroupnsMode:   container.CgroupnsMode(s.Cgroup),
		PortBindings:   nat.PortMap{},
	}
	sort.Strings(host.ExtraHosts)
	if s.Logging != nil {
		host.LogConfig = container.LogConfig{Type: s.Logging.Driver, Config: s.Logging.Options}
	} else if s.LogDriver != "" {
		host.LogConfig = container.LogConfig{Type: s.LogDriver, Config: s.LogOpt}
	}
	return host
}

func environment(env types.MappingWithEquals) []string {
	out := make([]string, 0, len(env))
	for k, v := range env {
		if v == nil {
			continue // unset and not in the environment: compose leaves it out
		}
		out = append(out, k+"="+*v)
	}
	sort.Strings(out)
	return out
}

func healthcheck(h *types.HealthCheckConfig, apiVersion string, warn func(string, string)) (*container.HealthConfig, error) {
	if h == nil {
		return nil, nil
	}
	if h.Disable {
		return &container.HealthConfig{Test: []string{"NONE"}}, nil
	}
	hc := &container.HealthConfig{Test: h.Test}
	if h.Interval != nil {
		hc.Interval = time.Duration(*h.Interval)
	}
	if h.Timeout != nil {
		hc.Timeout = time.Duration(*h.Timeout)
	}
	if h.StartPeriod != nil {
		hc.StartPeriod = time.Duration(*h.StartPeriod)
	}
	if h.StartInterval != nil {
		if versions.LessThan(apiVersion, "1.44") {
			warn("healthcheck.start_interval", "needs Engine API 1.44, the engine speaks "+apiVersion)
		} else {
			hc.StartInterval = time.Duration(*h.StartInterval)
		}
	}
	if h.Retries != nil {
		hc.Retries = int(*h.Retries)
	}
	return hc, nil
}

func restartPolicy(s types.ServiceConfig) (container.RestartPolicy, error) {
	if s.Restart == "" && s.Deploy != nil && s.Deploy.RestartPolicy != nil {
		rp := s.Deploy.RestartPolicy
		var pol container.RestartPolicy
		switch rp.Condition {
		case "none", "":
			pol.Name = container.RestartPolicyDisabled
		case "on-failure":
			pol.Name = container.RestartPolicyOnFailure
		default:
			pol.Name = container.RestartPolicyAlways
		}
		if rp.MaxAttempts != nil && pol.Name == container.RestartPolicyOnFailure {
			pol.MaximumRetryCount = int(*rp.MaxAttempts)
		}
		return pol, nil
	}
	name, count, _ := strings.Cut(s.Restart, ":")
	pol := container.RestartPolicy{Name: container.RestartPolicyMode(name)}
	if count != "" {
		n, err := strconv.Atoi(count)
		if err != nil {
			return pol, fmt.Errorf("service %q: restart %q: the retry count must be a number, as in on-failure:3", s.Name, s.Restart)
		}
		pol.MaximumRetryCount = n
	}
	return pol, nil
}

// resources maps mem_limit, cpus and friends, with deploy.resources as the
// fallback when the top-level field is unset (as Compose does).
func resources(s types.ServiceConfig, r *container.Resources, warn func(string, string)) {
	r.Memory = int64(s.MemLimit)
	r.MemoryReservation = int64(s.MemReservation)
	if s.MemSwapLimit != 0 {
		r.MemorySwap = int64(s.MemSwapLimit)
	}
	if s.MemSwappiness != 0 {
		v := int64(s.MemSwappiness)
		r.MemorySwappiness = &v
	}
	r.NanoCPUs = int64(float64(s.CPUS) * 1e9)
	r.CPUShares = s.CPUShares
	r.CPUQuota = s.CPUQuota
	r.CPUPeriod = s.CPUPeriod
	r.CPURealtimePeriod = s.CPURTPeriod
	r.CPURealtimeRuntime = s.CPURTRuntime
	r.CpusetCpus = s.CPUSet
	r.CgroupParent = s.CgroupParent
	r.DeviceCgroupRules = s.DeviceCgroupRules
	r.OomKillDisable = &s.OomKillDisable
	if s.PidsLimit != 0 {
		r.PidsLimit = &s.PidsLimit
	}
	if d := s.Deploy; d != nil {
		if l := d.Resources.Limits; l != nil {
			if r.Memory == 0 {
				r.Memory = int64(l.MemoryBytes)
			}
			if r.NanoCPUs == 0 {
				r.NanoCPUs = int64(float64(l.NanoCPUs.Value()) * 1e9)
			}
			if r.PidsLimit == nil && l.Pids != 0 {
				r.PidsLimit = &l.Pids
			}
			if len(l.Devices) > 0 || len(l.GenericResources) > 0 {
				warn("deploy.resources.limits devices/generic_resources", "Swarm only")
			}
		}
		if rs := d.Resources.Reservations; rs != nil {
			if r.MemoryReservation == 0 {
				r.MemoryReservation = int64(rs.MemoryBytes)
			}
			if rs.NanoCPUs != 0 {
				warn("deploy.resources.reservations.cpus", "a single engine reserves no CPU")
			}
			if len(rs.Devices) > 0 {
				warn("deploy.resources.reservations.devices", "GPU/device requests are not mapped yet")
			}
		}
	}
	for name, u := range s.Ulimits {
		ul := &units.Ulimit{Name: name, Soft: int64(u.Soft), Hard: int64(u.Hard)}
		if u.Single != 0 {
			ul.Soft, ul.Hard = int64(u.Single), int64(u.Single)
		}
		r.Ulimits = append(r.Ulimits, ul)
	}
	sort.Slice(r.Ulimits, func(i, j int) bool { return r.Ulimits[i].Name < r.Ulimits[j].Name })
	for _, d := range s.Devices {
		perm := d.Permissions
		if perm == "" {
			perm = "rwm"
		}
		r.Devices = append(r.Devices, container.DeviceMapping{PathOnHost: d.Source, PathInContainer: d.Target, CgroupPermissions: perm})
	}
}

func ports(s types.ServiceConfig, cfg *container.Config, host *container.HostConfig) error {
	for _, e := range s.Expose {
		proto := "tcp"
		port, p, ok := strings.Cut(e, "/")
		if ok {
			proto = p
		}
		np, err := nat.NewPort(proto, port)
		if err != nil {
			return fmt.Errorf("service %q: expose %q: %w; use a port number such as 8080 or 8080/udp", s.Name, e, err)
		}
		cfg.ExposedPorts[np] = struct{}{}
	}
	for _, p := range s.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = "tcp"
		}
		np, err := nat.NewPort(proto, strconv.FormatUint(uint64(p.Target), 10))
		if err != nil {
			return fmt.Errorf("service %q: ports: target %d: %w", s.Name, p.Target, err)
		}
		cfg.ExposedPorts[np] = struct{}{}
		// An empty HostPort asks the engine for a free one, as `ports: ["80"]` means.
		host.PortBindings[np] = append(host.PortBindings[np], nat.PortBinding{HostIP: p.HostIP, HostPort: p.Published})
	}
	return nil
}

func mounts(p *types.Project, s types.ServiceConfig, apiVersion string, host *container.HostConfig, warn func(string, string)) {
	for _, v := range s.Volumes {
		switch v.Type {
		case types.VolumeTypeBind:
			if v.Bind != nil && v.Bind.Recursive != "" {
				warn("volumes "+v.Target+": bind.recursive", "not mapped")
			}
			if v.Bind == nil || bool(v.Bind.CreateHostPath) {
				// Binds, unlike Mounts, create a missing host directory, as
				// Compose does, and take every option at once: ro,z,rprivate.
				var opts []string
				if v.ReadOnly {
					opts = append(opts, "ro")
				}
				if v.Bind != nil && v.Bind.SELinux != "" {
					opts = append(opts, v.Bind.SELinux)
				}
				if v.Bind != nil && v.Bind.Propagation != "" {
					opts = append(opts, v.Bind.Propagation)
				}
				b := v.Source + ":" + v.Target
				if len(opts) > 0 {
					b += ":" + strings.Join(opts, ",")
				}
				host.Binds = append(host.Binds, b)
				continue
			}
			m := mount.Mount{Type: mount.TypeBind, Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly}
			if v.Bind.Propagation != "" {
				m.BindOptions = &mount.BindOptions{Propagation: mount.Propagation(v.Bind.Propagation)}
			}
			if v.Bind.SELinux != "" {
				warn("volumes "+v.Target+": bind.selinux with create_host_path: false", "the engine's mount API has no SELinux relabelling")
			}
			host.Mounts = append(host.Mounts, m)
		case types.VolumeTypeVolume:
			m := mount.Mount{Type: mount.TypeVolume, Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly}
			if cfg, ok := p.Volumes[v.Source]; ok && v.Source != "" {
				m.Source = cfg.Name
			}
			if v.Volume != nil {
				m.VolumeOptions = &mount.VolumeOptions{NoCopy: v.Volume.NoCopy, Labels: v.Volume.Labels, Subpath: v.Volume.Subpath}
				if v.Volume.Subpath != "" && versions.LessThan(apiVersion, "1.45") {
					warn("volumes "+v.Target+": volume.subpath", "needs Engine API 1.45, the engine speaks "+apiVersion)
				}
			}
			host.Mounts = append(host.Mounts, m)
		case types.VolumeTypeTmpfs:
			m := mount.Mount{Type: mount.TypeTmpfs, Target: v.Target, ReadOnly: v.ReadOnly}
			if v.Tmpfs != nil {
				m.TmpfsOptions = &mount.TmpfsOptions{SizeBytes: int64(v.Tmpfs.Size), Mode: os.FileMode(v.Tmpfs.Mode)}
			}
			host.Mounts = append(host.Mounts, m)
		default:
			warn("volumes type "+v.Type, "only bind, volume and tmpfs are mapped")
		}
	}
	if len(s.Tmpfs) > 0 {
		host.Tmpfs = map[string]string{}
		for _, t := range s.Tmpfs {
			path, opts, _ := strings.Cut(t, ":")
			host.Tmpfs[path] = opts
		}
	}
	if len(s.VolumesFrom) > 0 {
		warn("volumes_from", "share a named volume instead")
	}
}

func networks(p *types.Project, s types.ServiceConfig, apiVersion string, sp *spec, warn func(string, string)) {
	if s.NetworkMode != "" {
		if strings.HasPrefix(s.NetworkMode, "service:") {
			warn("network_mode service:", "use a shared network instead")
			return
		}
		sp.host.NetworkMode = container.NetworkMode(s.NetworkMode)
		return
	}
	for i, key := range s.NetworksByPriority() {
		cfg := s.Networks[key]
		name := key
		if n, ok := p.Networks[key]; ok {
			name = n.Name
		}
		ep := &network.EndpointSettings{}
		if cfg.ServiceNameAliasEnabled() {
			ep.Aliases = append(ep.Aliases, s.Name)
		}
		if cfg != nil {
			ep.Aliases = append(ep.Aliases, cfg.Aliases...)
			if cfg.Ipv4Address != "" || cfg.Ipv6Address != "" || len(cfg.LinkLocalIPs) > 0 {
				ep.IPAMConfig = &network.EndpointIPAMConfig{IPv4Address: cfg.Ipv4Address, IPv6Address: cfg.Ipv6Address, LinkLocalIPs: cfg.LinkLocalIPs}
			}
			ep.DriverOpts = cfg.DriverOpts
			if cfg.GatewayPriority != 0 {
				if versions.LessThan(apiVersion, "1.48") {
					warn("networks."+key+".gw_priority", "needs Engine API 1.48, the engine speaks "+apiVersion)
				} else {
					ep.GwPriority = cfg.GatewayPriority
				}
			}
			if cfg.InterfaceName != "" {
				warn("networks."+key+".interface_name", "not mapped")
			}
			if cfg.MacAddress != "" {
				warn("networks."+key+".mac_address", "not mapped")
			}
		}
		if i == 0 {
			sp.host.NetworkMode = container.NetworkMode(name)
		}
		if i == 0 || versions.GreaterThanOrEqualTo(apiVersion, "1.44") {
			if sp.network.EndpointsConfig == nil {
				sp.network.EndpointsConfig = map[string]*network.EndpointSettings{}
			}
			sp.network.EndpointsConfig[name] = ep
			continue
		}
		if sp.connect == nil {
			sp.connect = map[string]*network.EndpointSettings{}
		}
		sp.connect[name] = ep
	}
}

// unsupported warns about every set field this driver does not map.
func unsupported(s types.ServiceConfig, warn func(string, string)) {
	check := func(set bool, field, why string) {
		if set {
			warn(field, why)
		}
	}
	check(len(s.Gpus) > 0, "gpus", "not mapped yet")
	check(len(s.Models) > 0, "models", "not mapped")
	check(s.Provider != nil, "provider", "not mapped")
	check(len(s.PreStart) > 0, "pre_start", "not mapped")
	check(len(s.PostStart) > 0, "post_start", "not mapped")
	check(len(s.PreStop) > 0, "pre_stop", "not mapped")
	check(s.BlkioConfig != nil, "blkio_config", "not mapped")
	check(s.CredentialSpec != nil, "credential_spec", "Windows only")
	check(s.Isolation != "", "isolation", "Windows only")
	check(s.CPUCount != 0 || s.CPUPercent != 0, "cpu_count/cpu_percent", "Windows only")
	check(len(s.Annotations) > 0, "annotations", "not mapped")
	check(s.UseAPISocket, "use_api_socket", "not mapped")
	check(len(s.Links) > 0 || len(s.ExternalLinks) > 0, "links", "services reach each other by name on the project network")
	check(s.MacAddress != "", "mac_address", "not mapped")
	check(s.Platform != "", "platform", "the image is used as built or pulled")
	check(s.Umask != nil, "umask", "not mapped")
	check(s.Net != "", "net", "the legacy form; use network_mode")
	if d := s.Deploy; d != nil {
		check(d.Mode != "" && d.Mode != "replicated", "deploy.mode "+d.Mode, "Swarm only")
		check(d.UpdateConfig != nil && d.UpdateConfig.MaxFailureRatio != 0, "deploy.update_config.max_failure_ratio",
			"a failure acts as failure_action says, whatever the ratio")
		check(d.RollbackConfig != nil, "deploy.rollback_config",
			"a rollback starts the previous containers again at once: they are kept until the new ones are ready")
		check(len(d.Placement.Constraints) > 0 || len(d.Placement.Preferences) > 0, "deploy.placement", "Swarm only")
		check(len(d.Labels) > 0, "deploy.labels", "Swarm service labels; use labels")
		check(d.EndpointMode != "", "deploy.endpoint_mode", "Swarm only")
		check(d.RestartPolicy != nil && (d.RestartPolicy.Delay != nil || d.RestartPolicy.Window != nil),
			"deploy.restart_policy.delay/window", "the engine restarts with its own back-off")
	}
}

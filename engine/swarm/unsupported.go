package swarm

import "github.com/compose-spec/compose-go/v2/types"

// unsupported warns about every set field of the service that Swarm has no
// place for. Fields the caller acts on before mapping (build, pull_policy,
// depends_on, profiles, develop, attach) and those the loader resolves
// (env_file, label_file, extends) are not warnings; coverage_test.go keeps
// the list of every compose field honest.
func (m *mapper) unsupported(s types.ServiceConfig) {
	check := func(set bool, field, why string) {
		if set {
			m.warn(s.Name, field, why)
		}
	}
	const cgroups = "Swarm sets no cgroup options but resources"
	check(s.Privileged, "privileged", "Swarm services cannot run privileged; add capabilities with cap_add")
	check(len(s.Devices) > 0, "devices", "Swarm services get no host devices")
	check(len(s.DeviceCgroupRules) > 0, "device_cgroup_rules", "Swarm services get no host devices")
	check(len(s.Gpus) > 0, "gpus", "reserve them with deploy.resources.reservations.generic_resources")
	check(s.ContainerName != "", "container_name", "Swarm names each task's container after the service")
	check(len(s.Links) > 0 || len(s.ExternalLinks) > 0, "links", "services reach each other by name on their networks")
	check(s.DomainName != "", "domainname", "Swarm sets the hostname only")
	check(s.MacAddress != "", "mac_address", "Swarm allocates each task's endpoint itself")
	check(s.Ipc != "", "ipc", "Swarm tasks share no namespaces")
	check(s.Pid != "", "pid", "Swarm tasks share no namespaces")
	check(s.Uts != "", "uts", "Swarm tasks share no namespaces")
	check(s.UserNSMode != "", "userns_mode", "Swarm tasks share no namespaces")
	check(s.Cgroup != "", "cgroup", cgroups)
	check(s.CgroupParent != "", "cgroup_parent", cgroups)
	check(s.CPUShares != 0, "cpu_shares", "use deploy.resources.reservations.cpus")
	check(s.CPUQuota != 0 || s.CPUPeriod != 0, "cpu_quota/cpu_period", "use deploy.resources.limits.cpus")
	check(s.CPURTPeriod != 0 || s.CPURTRuntime != 0, "cpu_rt_period/cpu_rt_runtime", cgroups)
	check(s.CPUSet != "", "cpuset", cgroups)
	check(s.CPUCount != 0 || s.CPUPercent != 0, "cpu_count/cpu_percent", "Windows only")
	check(s.MemSwapLimit != 0, "memswap_limit", cgroups)
	check(s.MemSwappiness != 0, "mem_swappiness", cgroups)
	check(s.OomKillDisable, "oom_kill_disable", cgroups)
	check(s.BlkioConfig != nil, "blkio_config", cgroups)
	check(s.ShmSize != 0, "shm_size", "mount a tmpfs at /dev/shm instead")
	check(len(s.StorageOpt) > 0, "storage_opt", "Swarm sets no storage options")
	check(s.Runtime != "", "runtime", "Swarm runs tasks with each node's default runtime")
	check(s.CredentialSpec != nil, "credential_spec", "Windows only")
	check(s.Umask != nil, "umask", "Swarm has no field for it")
	check(len(s.Annotations) > 0, "annotations", "Swarm has no field for them")
	check(s.UseAPISocket, "use_api_socket", "a task cannot reach the engine that deployed it")
	check(len(s.Models) > 0, "models", "Docker Model Runner is a single-engine feature")
	check(s.Provider != nil, "provider", "providers are a single-engine feature")
	check(len(s.PreStart) > 0 || len(s.PostStart) > 0 || len(s.PreStop) > 0, "pre_start/post_start/pre_stop", "Swarm runs no lifecycle hooks")
}

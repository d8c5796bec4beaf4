package kube

import (
	"fmt"
	"sort"

	"github.com/compose-spec/compose-go/v2/types"
)

// unsupported warns about every set field of the service that a pod has no
// place for. Fields the caller acts on before mapping (build, pull_policy,
// depends_on, profiles, develop, attach) and those the loader resolves
// (env_file, label_file, extends) are not warnings.
func (m *mapper) unsupported(s types.ServiceConfig) {
	check := func(set bool, field, why string) {
		if set {
			m.warn(s.Name, field, why)
		}
	}
	const cgroups = "a pod's cgroups are the kubelet's: set deploy.resources"
	const namespaces = "a pod shares no namespace with the node or another pod"
	check(len(s.Devices) > 0 || len(s.DeviceCgroupRules) > 0, "devices", "pods get host devices through device plugins")
	check(len(s.Gpus) > 0, "gpus", "request nvidia.com/gpu through a device plugin")
	check(s.ContainerName != "", "container_name", "pods are named after their workload")
	check(len(s.Links) > 0 || len(s.ExternalLinks) > 0, "links", "services reach each other by name through their Services")
	check(s.DomainName != "", "domainname", "a pod's domain is the cluster's")
	check(s.MacAddress != "", "mac_address", "the network plugin gives each pod its address")
	check(s.Ipc != "" || s.Pid != "" || s.Uts != "" || s.UserNSMode != "" || s.NetworkMode != "", "ipc/pid/uts/userns_mode/network_mode", namespaces)
	check(s.Cgroup != "" || s.CgroupParent != "", "cgroup/cgroup_parent", cgroups)
	check(s.CPUShares != 0 || s.CPUQuota != 0 || s.CPUPeriod != 0 || s.CPURTPeriod != 0 || s.CPURTRuntime != 0 || s.CPUSet != "" || s.CPUCount != 0 || s.CPUPercent != 0, "cpu_shares/cpu_quota/cpu_period/cpuset", cgroups)
	check(s.MemSwapLimit != 0 || s.MemSwappiness != 0 || s.OomKillDisable || s.OomScoreAdj != 0, "memswap_limit/mem_swappiness/oom_*", cgroups)
	check(s.BlkioConfig != nil, "blkio_config", cgroups)
	check(s.ShmSize != 0, "shm_size", "mount a tmpfs at /dev/shm instead")
	check(len(s.StorageOpt) > 0, "storage_opt", "a pod's writable layer is the runtime's")
	check(s.Runtime != "" || s.Isolation != "", "runtime/isolation", "choose a RuntimeClass, which compose has no words for")
	check(s.CredentialSpec != nil, "credential_spec", "Windows only")
	check(s.Umask != nil, "umask", "a container has no field for it")
	check(len(s.Annotations) > 0, "annotations", "container annotations are the runtime's; labels become pod annotations")
	check(s.UseAPISocket, "use_api_socket", "a pod cannot reach the engine that built it")
	check(len(s.Models) > 0, "models", "Docker Model Runner is a single-engine feature")
	check(s.Provider != nil, "provider", "providers are a single-engine feature")
	check(len(s.PreStart) > 0 || len(s.PostStart) > 0 || len(s.PreStop) > 0, "pre_start/post_start/pre_stop", "lifecycle hooks run in the container; compose's have no place in one")
	check(s.Init != nil && *s.Init, "init", "put an init (tini) in the image")
	check(s.StopSignal != "", "stop_signal", "a pod is stopped with SIGTERM; make the image's STOPSIGNAL the one it needs")
	check(len(s.Ulimits) > 0, "ulimits", "the limits are the node's")
	check(len(s.DNS) > 0 || len(s.DNSOpts) > 0 || len(s.DNSSearch) > 0, "dns/dns_opt/dns_search", "a pod resolves through the cluster's DNS")
	check(len(s.SecurityOpt) > 0, "security_opt", "set the pod's securityContext, which compose has no words for")
	check(len(s.GroupAdd) > 0, "group_add", "supplementalGroups are the pod's, which compose has no words for")
	check(s.Logging != nil || s.LogDriver != "", "logging", "the kubelet keeps the logs; `stack logs` reads them")
	check(s.Platform != "", "platform", "the image's manifest list chooses per node; pin a node with deploy.placement.constraints node.labels.kubernetes.io/arch==...")
	check(mode(s) == "global-job", "deploy.mode global-job", "a Job runs deploy.replicas pods to completion, not one on every node")
	check(s.Deploy != nil && s.Deploy.RollbackConfig != nil, "deploy.rollback_config", "a failed rollout stops where it is")
	for _, n := range networks(s) {
		m.warn(s.Name, "networks."+n, "a cluster's pods share one network; NetworkPolicies, which compose has no words for, separate them")
	}
}

func mode(s types.ServiceConfig) string {
	if s.Deploy == nil {
		return ""
	}
	return s.Deploy.Mode
}

// networks lists the service's networks other than the default one, and
// those where it has aliases or addresses (which only the default honours
// as its name).
func networks(s types.ServiceConfig) []string {
	var out []string
	for name, n := range s.Networks {
		if name != "default" || n != nil && (len(n.Aliases) > 0 || n.Ipv4Address != "" || n.Ipv6Address != "") {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// checkNames refuses the services whose name cannot be a Service's: its
// DNS name is the address that other services are given.
func (m *mapper) checkNames() {
	for _, name := range m.p.ServiceNames() {
		if isServiceName(name) {
			continue
		}
		suggest := suggestServiceName(name)
		m.fail(name, "", ErrInvalidName,
			fmt.Sprintf("the name is not a DNS-1035 label (lower-case letters, digits and -, starting with a letter, at most 63), which its Service's must be for %s_HOST to resolve", envPrefix(name)),
			fmt.Sprintf("rename the service, e.g. to %q (x-stack.inject.prefix keeps the variables' names)", suggest))
	}
}

// envPrefix is the prefix envinject gives a service's variables.
func envPrefix(name string) string {
	b := []byte(name)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		default:
			b[i] = '_'
		}
	}
	return string(b)
}

package kube

import (
	"slices"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/engine/enginetest"
)

// unsupportedFields: each compose field a pod has no place for, written in
// a service, and the field its warning names.
var unsupportedFields = []struct{ field, yaml, warning string }{
	{"devices", "devices: [/dev/fuse]", "devices"},
	{"device_cgroup_rules", `device_cgroup_rules: ["c 1:3 mr"]`, "devices"},
	{"gpus", "gpus: all", "gpus"},
	{"container_name", "container_name: web", "container_name"},
	{"links", "links: [db]", "links"},
	{"external_links", "external_links: [db]", "links"},
	{"domainname", "domainname: shop.internal", "domainname"},
	{"mac_address", "mac_address: 02:42:ac:11:00:02", "mac_address"},
	{"ipc", "ipc: host", "ipc/pid/uts/userns_mode/network_mode"},
	{"pid", "pid: host", "ipc/pid/uts/userns_mode/network_mode"},
	{"uts", "uts: host", "ipc/pid/uts/userns_mode/network_mode"},
	{"userns_mode", "userns_mode: host", "ipc/pid/uts/userns_mode/network_mode"},
	{"network_mode", "network_mode: host", "ipc/pid/uts/userns_mode/network_mode"},
	{"cgroup", "cgroup: host", "cgroup/cgroup_parent"},
	{"cgroup_parent", "cgroup_parent: /shop", "cgroup/cgroup_parent"},
	{"cpu_shares", "cpu_shares: 512", "cpu_shares/cpu_quota/cpu_period/cpuset"},
	{"cpu_quota", "cpu_quota: 50000", "cpu_shares/cpu_quota/cpu_period/cpuset"},
	{"cpu_period", "cpu_period: 100000", "cpu_shares/cpu_quota/cpu_period/cpuset"},
	{"cpu_rt_period", "cpu_rt_period: 1000", "cpu_shares/cpu_quota/cpu_period/cpuset"},
	{"cpu_rt_runtime", "cpu_rt_runtime: 1000", "cpu_shares/cpu_quota/cpu_period/cpuset"},
	{"cpuset", `cpuset: "0"`, "cpu_shares/cpu_quota/cpu_period/cpuset"},
	{"cpu_count", "cpu_count: 2", "cpu_shares/cpu_quota/cpu_period/cpuset"},
	{"cpu_percent", "cpu_percent: 50", "cpu_shares/cpu_quota/cpu_period/cpuset"},
	{"memswap_limit", "memswap_limit: 1g", "memswap_limit/mem_swappiness/oom_*"},
	{"mem_swappiness", "mem_swappiness: 10", "memswap_limit/mem_swappiness/oom_*"},
	{"oom_kill_disable", "oom_kill_disable: true", "memswap_limit/mem_swappiness/oom_*"},
	{"oom_score_adj", "oom_score_adj: 100", "memswap_limit/mem_swappiness/oom_*"},
	{"blkio_config", "blkio_config: {weight: 300}", "blkio_config"},
	{"shm_size", "shm_size: 64m", "shm_size"},
	{"storage_opt", "storage_opt: {size: 1G}", "storage_opt"},
	{"runtime", "runtime: runsc", "runtime/isolation"},
	{"isolation", "isolation: process", "runtime/isolation"},
	{"credential_spec", "credential_spec: {file: spec.json}", "credential_spec"},
	{"umask", `umask: "0022"`, "umask"},
	{"annotations", "annotations: {a: b}", "annotations"},
	{"use_api_socket", "use_api_socket: true", "use_api_socket"},
	{"models", "models: [llm]", "models"},
	{"pre_start", `pre_start: [{command: ["true"]}]`, "pre_start/post_start/pre_stop"},
	{"post_start", `post_start: [{command: ["true"]}]`, "pre_start/post_start/pre_stop"},
	{"pre_stop", `pre_stop: [{command: ["true"]}]`, "pre_start/post_start/pre_stop"},
	{"volumes_from", "volumes_from: [api]", "volumes_from"},
	{"provider", "provider: {type: model, options: {model: ai/smollm2}}", "provider"},
	{"init", "init: true", "init"},
	{"stop_signal", "stop_signal: SIGINT", "stop_signal"},
	{"ulimits", "ulimits: {nofile: 1024}", "ulimits"},
	{"dns", "dns: [1.1.1.1]", "dns/dns_opt/dns_search"},
	{"dns_opt", "dns_opt: [use-vc]", "dns/dns_opt/dns_search"},
	{"dns_search", "dns_search: [example.com]", "dns/dns_opt/dns_search"},
	{"security_opt", "security_opt: [no-new-privileges]", "security_opt"},
	{"group_add", "group_add: [mail]", "group_add"},
	{"logging", "logging: {driver: syslog}", "logging"},
	{"platform", "platform: linux/arm64", "platform"},
	{"pids_limit", "pids_limit: 100", "pids_limit"},
	{"networks", "networks: [back]", "networks.back"},
}

// Fields Map turns into the objects; the golden files and the tests of
// map_test.go cover each.
var mappedFields = []string{
	"image", "command", "entrypoint", "environment", "labels", "user", "working_dir", "hostname",
	"stop_grace_period", "tty", "stdin_open", "read_only", "privileged", "healthcheck", "deploy",
	"restart", "scale", "ports", "expose", "volumes", "tmpfs", "secrets", "configs", "cap_add",
	"cap_drop", "sysctls", "extra_hosts", "mem_limit", "cpus", "mem_reservation", "pull_policy",
}

// Fields that are not the mapping's: the caller acts on them before it
// (build, pulls, order), the loader resolves or refuses them, or they steer
// the CLI.
var othersFields = []string{
	"build", "dockerfile", "pull_refresh_after", "depends_on", "profiles", "develop",
	"attach", "env_file", "label_file", "extends", "log_driver", "log_opt", "net", "volume_driver",
}

// TestEveryComposeFieldIsDecided fails when compose-go has a service field
// that is neither mapped, warned about, nor someone else's: a new field
// must not be dropped silently.
func TestEveryComposeFieldIsDecided(t *testing.T) {
	unsupported := make([]string, len(unsupportedFields))
	for i, u := range unsupportedFields {
		unsupported[i] = u.field
	}
	if missing := enginetest.UndecidedFields(mappedFields, othersFields, unsupported); len(missing) > 0 {
		t.Errorf("compose fields nobody decided about: %v; map them, warn about them (unsupported.go), or list them as someone else's", missing)
	}
}

// TestUnsupportedFieldsWarn: every field a pod cannot honour is one warning
// naming it, and the service is still mapped.
func TestUnsupportedFieldsWarn(t *testing.T) {
	for _, u := range unsupportedFields {
		t.Run(u.field, func(t *testing.T) {
			p := load(t, "services:\n  web:\n    image: web:1\n    "+u.yaml+"\n  api: {image: \"web:1\"}\n  db: {image: \"web:1\"}\nnetworks: {back: {}}\nmodels:\n  llm: {model: ai/smollm2}\n")
			objs, warnings, err := Map(p, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range warnings["service:web"] {
				field, _, _ := strings.Cut(w, ": ")
				got = append(got, field)
			}
			if want := []string{u.warning}; !slices.Equal(got, want) {
				t.Errorf("warnings %q, want %q", got, want)
			}
			if !slices.ContainsFunc(objs.Services, func(s Service) bool { return s.Name == "web" }) {
				t.Errorf("web is not mapped")
			}
		})
	}
}

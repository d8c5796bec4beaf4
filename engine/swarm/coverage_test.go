package swarm

import (
	"slices"
	"testing"

	"github.com/stack-deploy/stack/engine/enginetest"
)

// unsupportedFields: each compose field Swarm cannot honour, written in a
// service, and the field its warning names.
var unsupportedFields = []struct{ field, yaml, warning string }{
	{"privileged", "privileged: true", "privileged"},
	{"devices", "devices: [/dev/fuse]", "devices"},
	{"device_cgroup_rules", `device_cgroup_rules: ["c 1:3 mr"]`, "device_cgroup_rules"},
	{"gpus", "gpus: all", "gpus"},
	{"container_name", "container_name: web", "container_name"},
	{"links", "links: [db]", "links"},
	{"external_links", "external_links: [db]", "links"},
	{"domainname", "domainname: shop.internal", "domainname"},
	{"mac_address", "mac_address: 02:42:ac:11:00:02", "mac_address"},
	{"ipc", "ipc: host", "ipc"},
	{"pid", "pid: host", "pid"},
	{"uts", "uts: host", "uts"},
	{"userns_mode", "userns_mode: host", "userns_mode"},
	{"cgroup", "cgroup: host", "cgroup"},
	{"cgroup_parent", "cgroup_parent: /shop", "cgroup_parent"},
	{"cpu_shares", "cpu_shares: 512", "cpu_shares"},
	{"cpu_quota", "cpu_quota: 50000", "cpu_quota/cpu_period"},
	{"cpu_period", "cpu_period: 100000", "cpu_quota/cpu_period"},
	{"cpu_rt_period", "cpu_rt_period: 1000", "cpu_rt_period/cpu_rt_runtime"},
	{"cpu_rt_runtime", "cpu_rt_runtime: 1000", "cpu_rt_period/cpu_rt_runtime"},
	{"cpuset", `cpuset: "0"`, "cpuset"},
	{"cpu_count", "cpu_count: 2", "cpu_count/cpu_percent"},
	{"cpu_percent", "cpu_percent: 50", "cpu_count/cpu_percent"},
	{"memswap_limit", "memswap_limit: 1g", "memswap_limit"},
	{"mem_swappiness", "mem_swappiness: 10", "mem_swappiness"},
	{"oom_kill_disable", "oom_kill_disable: true", "oom_kill_disable"},
	{"blkio_config", "blkio_config: {weight: 300}", "blkio_config"},
	{"shm_size", "shm_size: 64m", "shm_size"},
	{"storage_opt", "storage_opt: {size: 1G}", "storage_opt"},
	{"runtime", "runtime: runsc", "runtime"},
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
}

// Fields Map turns into the spec; TestMapService and the tests next to it
// cover each.
var mappedFields = []string{
	"image", "command", "entrypoint", "environment", "labels", "user", "working_dir", "hostname",
	"init", "stop_signal", "stop_grace_period", "tty", "stdin_open", "read_only", "group_add",
	"healthcheck", "deploy", "restart", "scale", "platform", "ports", "networks", "network_mode",
	"volumes", "tmpfs", "secrets", "configs", "cap_add", "cap_drop", "sysctls", "ulimits", "dns",
	"dns_search", "dns_opt", "extra_hosts", "logging", "isolation", "security_opt", "oom_score_adj",
	"mem_limit", "cpus", "pids_limit", "mem_reservation",
}

// Fields that are not the mapping's: the caller acts on them before it
// (build, pulls, order), the loader resolves or refuses them, or they steer
// the CLI. expose needs nothing on Swarm: every port of a task is reachable
// on its networks (address injection reads it).
var othersFields = []string{
	"build", "dockerfile", "pull_policy", "pull_refresh_after", "depends_on", "profiles", "develop",
	"attach", "env_file", "label_file", "extends", "expose", "log_driver", "log_opt", "volume_driver", "net",
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

// TestUnsupportedFieldsWarn: every field Swarm cannot honour is a warning
// naming it, and changes nothing else.
func TestUnsupportedFieldsWarn(t *testing.T) {
	plain := mapWeb(t, "services: {web: {image: \"web:1\"}}", nil)
	for _, u := range unsupportedFields {
		t.Run(u.field, func(t *testing.T) {
			p := load(t, "services:\n  web:\n    image: web:1\n    "+u.yaml+"\n  api: {image: \"web:1\"}\n  db: {image: \"web:1\"}\nmodels:\n  llm: {model: ai/smollm2}\n")
			d, err := Map(p, Options{Images: pinned(p)})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range d.Warnings {
				got = append(got, w.Service+" "+w.Field)
			}
			if want := []string{"web " + u.warning}; !slices.Equal(got, want) {
				t.Errorf("warnings %q, want %q", got, want)
			}
			// compose-go attaches a provider service to no network.
			if web := serviceNamed(t, d, "web"); web.Hash.Sum != plain.Hash.Sum && u.field != "provider" {
				t.Errorf("the spec changed: %v", changedParts(plain.Hash, web.Hash))
			}
		})
	}
}

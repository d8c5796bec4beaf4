package swarm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/docker/docker/api/types/swarm"

	"github.com/stack-deploy/stack/engine"
)

// specHash hashes a service spec for engine.LabelConfigHash. Sum covers the
// whole spec (its JSON, maps in key order): a deploy whose mapping gives
// the same spec updates nothing, and any difference is an update, even one
// no part below names. Parts hash the spec by the compose fields a user
// changes, for the plan's reason ("environment, deploy.replicas changed");
// unset fields have no part, as in engine.ConfigHash.
//
// Secret and config IDs are not in the spec yet (Service.Resolve adds
// them): the content hash in their names stands for them.
func specHash(spec swarm.ServiceSpec) (engine.Hash, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return engine.Hash{}, fmt.Errorf("hashing the spec of %s: %w", spec.Name, err)
	}
	sum := sha256.Sum256(b)
	tt := spec.TaskTemplate
	cs := tt.ContainerSpec
	var replicas *uint64
	mode := spec.Mode
	switch {
	case mode.Replicated != nil:
		replicas, mode = mode.Replicated.Replicas, swarm.ServiceMode{Replicated: &swarm.ReplicatedService{}}
	case mode.ReplicatedJob != nil:
		replicas = mode.ReplicatedJob.TotalCompletions
	}
	var endpointMode swarm.ResolutionMode
	var ports []swarm.PortConfig
	if e := spec.EndpointSpec; e != nil {
		endpointMode, ports = e.Mode, e.Ports
	}
	parts := map[string]any{
		"image":                  cs.Image,
		"entrypoint":             cs.Command,
		"command":                cs.Args,
		"environment":            cs.Env,
		"labels":                 cs.Labels,
		"deploy.labels":          spec.Labels,
		"hostname":               cs.Hostname,
		"user":                   cs.User,
		"group_add":              cs.Groups,
		"working_dir":            cs.Dir,
		"security_opt":           cs.Privileges,
		"init":                   cs.Init,
		"stop_signal":            cs.StopSignal,
		"stop_grace_period":      cs.StopGracePeriod,
		"tty":                    cs.TTY,
		"stdin_open":             cs.OpenStdin,
		"read_only":              cs.ReadOnly,
		"volumes":                cs.Mounts,
		"healthcheck":            cs.Healthcheck,
		"extra_hosts":            cs.Hosts,
		"dns":                    cs.DNSConfig,
		"secrets":                cs.Secrets,
		"configs":                cs.Configs,
		"isolation":              cs.Isolation,
		"sysctls":                cs.Sysctls,
		"cap_add":                cs.CapabilityAdd,
		"cap_drop":               cs.CapabilityDrop,
		"ulimits":                cs.Ulimits,
		"oom_score_adj":          cs.OomScoreAdj,
		"deploy.resources":       tt.Resources,
		"deploy.restart_policy":  tt.RestartPolicy,
		"deploy.placement":       tt.Placement,
		"networks":               tt.Networks,
		"logging":                tt.LogDriver,
		"deploy.mode":            mode,
		"deploy.replicas":        replicas,
		"deploy.update_config":   spec.UpdateConfig,
		"deploy.rollback_config": spec.RollbackConfig,
		"deploy.endpoint_mode":   endpointMode,
		"ports":                  ports,
	}
	h := engine.Hash{Sum: hex.EncodeToString(sum[:]), Parts: map[string]string{}}
	for k, v := range parts {
		b, err := json.Marshal(v)
		if err != nil {
			return engine.Hash{}, fmt.Errorf("hashing %s of %s: %w", k, spec.Name, err)
		}
		switch string(b) {
		case "null", `""`, "0", "false", "[]", "{}":
			continue
		}
		part := sha256.Sum256(b)
		h.Parts[k] = hex.EncodeToString(part[:6])
	}
	return h, nil
}

package swarm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/docker/docker/api/types/swarm"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
)

// specHash hashes a service spec for engine.LabelConfigHash. Sum covers the
// whole spec but its replica count (its JSON, maps in key order): a deploy
// whose mapping gives the same spec updates nothing, and any difference is
// an update, even one no part below names. The replica count is left out
// as engine.ConfigHash leaves scale out: the plan compares it with the
// service's replicas, and a change scales the service rather than replacing
// its tasks. Parts hash the spec by the compose fields a user changes, for
// the plan's reason ("environment, ports changed"); unset fields have no
// part, as in engine.ConfigHash.
//
// Secret and config IDs are not in the spec yet (Service.Resolve adds
// them): the content hash in their names stands for them.
func specHash(spec swarm.ServiceSpec) (engine.Hash, error) {
	mode := spec.Mode
	switch {
	case mode.Replicated != nil:
		mode = swarm.ServiceMode{Replicated: &swarm.ReplicatedService{}}
	case mode.ReplicatedJob != nil:
		mode = swarm.ServiceMode{ReplicatedJob: &swarm.ReplicatedJob{}}
	}
	whole := spec
	whole.Mode = mode
	b, err := json.Marshal(whole)
	if err != nil {
		return engine.Hash{}, fmt.Errorf("hashing the spec of %s: %w", spec.Name, err)
	}
	sum := sha256.Sum256(b)
	tt := spec.TaskTemplate
	cs := tt.ContainerSpec
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

// ConfigHashes sets each service's Hash in images to the hash of the spec
// Map makes of it (engine.Hasher): what the spec label of a service that is
// current holds. p is resolved (Resolve) and its addresses injected; an
// image not resolved yet (a dry run that would build it) hashes as
// unresolved, which no deployed spec has.
func (d *Driver) ConfigHashes(p *manifest.Project, images engine.Images) (engine.Images, error) {
	d.mu.Lock()
	version := d.apiVersion
	d.mu.Unlock()
	desired, err := Map(p.Project, Options{Images: placeholders(p, nil), APIVersion: version})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", strings.Join(p.ComposeFiles, ", "), err)
	}
	hashes := map[string]engine.Hash{}
	for _, s := range desired.Services {
		hashes[s.Name] = s.Hash
	}
	return images.WithHashes(hashes), nil
}

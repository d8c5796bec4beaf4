package manifest

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"
)

// OrchestratorKubernetes names the Kubernetes driver: the project's services
// become workloads in one namespace of the cluster that the environment's
// context names (engine/kube maps them).
const OrchestratorKubernetes = "kubernetes"

// The values of an environment's expose setting.
const (
	// ExposeNodePort (the default) serves a published port as the NodePort
	// of that number, which must then lie in the cluster's NodePort range.
	ExposeNodePort = "nodeport"
	// ExposeLoadBalancer serves published ports through a LoadBalancer
	// Service listening on them.
	ExposeLoadBalancer = "loadbalancer"
)

// The access modes a Kubernetes volume can ask for.
const (
	AccessReadWriteOnce    = "ReadWriteOnce"
	AccessReadWriteMany    = "ReadWriteMany"
	AccessReadWriteOncePod = "ReadWriteOncePod"
)

// Kubernetes is the top-level x-stack.kubernetes block: what a cluster needs
// to know of the project's named volumes that compose has no words for.
//
//	x-stack:
//	  kubernetes:
//	    volumes:
//	      data: {size: 10Gi, class: fast, access: ReadWriteOnce}
type Kubernetes struct {
	// Volumes are the claims' settings, by the key of a top-level volume.
	Volumes map[string]KubernetesVolume `yaml:"volumes,omitempty" json:"volumes,omitempty"`
}

// KubernetesVolume sets the PersistentVolumeClaim(s) of one named volume.
type KubernetesVolume struct {
	// Size is the storage requested, a Kubernetes quantity (1Gi, 500Mi);
	// empty: 1Gi.
	Size string `yaml:"size,omitempty" json:"size,omitempty"`
	// Class is the storage class; empty: the cluster's default class.
	Class string `yaml:"class,omitempty" json:"class,omitempty"`
	// Access is ReadWriteOnce (the default), ReadWriteMany or
	// ReadWriteOncePod. ReadWriteMany lets every replica of every service
	// share one claim, as they share a volume on one engine.
	Access string `yaml:"access,omitempty" json:"access,omitempty"`
}

// ServiceKubernetes is a service's x-stack.kubernetes block.
//
//	x-stack:
//	  kubernetes:
//	    liveness: true            # the healthcheck restarts the pod too
//	    liveness:                 # or a probe of its own, healthcheck-shaped
//	      test: ["CMD", "/app", "-alive"]
//	      interval: 10s
type ServiceKubernetes struct {
	// Liveness asks for a liveness probe; nil: none (the healthcheck is
	// the readiness probe only).
	Liveness *Liveness `yaml:"liveness,omitempty" json:"liveness,omitempty"`
}

// Liveness is `liveness: true` (the service's healthcheck, also as a
// liveness probe) or a probe of its own in the healthcheck's shape.
type Liveness struct {
	// Healthcheck: the probe is the service's healthcheck.
	Healthcheck bool `yaml:"-" json:"healthcheck,omitempty"`
	// Probe is the probe's own check; nil when Healthcheck.
	Probe *Probe `yaml:"-" json:"probe,omitempty"`
}

// UnmarshalYAML takes true (the healthcheck), false (no probe) or a
// healthcheck-shaped mapping.
func (l *Liveness) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		var b bool
		if err := n.Decode(&b); err != nil {
			return fmt.Errorf("liveness: %q is neither true, false nor a probe", n.Value)
		}
		*l = Liveness{Healthcheck: b}
		return nil
	}
	var p Probe
	if err := decodeNode(n, &p); err != nil {
		return err
	}
	*l = Liveness{Probe: &p}
	return nil
}

// Probe is a check in the shape of a compose healthcheck.
type Probe struct {
	// Test is ["CMD", arg...], ["CMD-SHELL", command] or a string (a shell
	// command).
	Test        ProbeTest `yaml:"test" json:"test"`
	Interval    string    `yaml:"interval,omitempty" json:"interval,omitempty"`
	Timeout     string    `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	Retries     int       `yaml:"retries,omitempty" json:"retries,omitempty"`
	StartPeriod string    `yaml:"start_period,omitempty" json:"start_period,omitempty"`
}

// ProbeTest is a probe's test: a string is a shell command (CMD-SHELL).
type ProbeTest []string

// UnmarshalYAML takes a list or a shell command.
func (t *ProbeTest) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*t = ProbeTest{"CMD-SHELL", n.Value}
		return nil
	}
	var l []string
	if err := n.Decode(&l); err != nil {
		return err
	}
	*t = l
	return nil
}

// KubernetesFor returns a service's x-stack.kubernetes block, the zero value
// when it has none.
func (p *Project) KubernetesFor(service string) ServiceKubernetes {
	if k := p.Services[service].Kubernetes; k != nil {
		return *k
	}
	return ServiceKubernetes{}
}

// KubernetesVolumeFor returns the settings of the named volume key, the zero
// value when x-stack.kubernetes.volumes has none.
func (p *Project) KubernetesVolumeFor(key string) KubernetesVolume {
	if p.Stack.Kubernetes == nil {
		return KubernetesVolume{}
	}
	return p.Stack.Kubernetes.Volumes[key]
}

// checkKubernetes adds a problem for each x-stack.kubernetes setting that
// cannot be right whatever the cluster: a volume the project does not
// declare, an unknown access mode, a probe without a test or with a
// duration that does not parse. Quantities are engine/kube's to judge.
func (p *Project) checkKubernetes(ps *problems) {
	bad := func(service, field, problem, fix string) {
		e := p.ErrorAt(service, field)
		e.Problem, e.Fix, e.Err = problem, fix, ErrInvalid
		ps.add(e)
	}
	if k := p.Stack.Kubernetes; k != nil {
		for _, key := range slices.Sorted(maps.Keys(k.Volumes)) {
			field := ExtensionKey + ".kubernetes.volumes." + key
			if _, declared := p.idx["volumes."+key]; !declared && p.Volumes[key].Name == "" {
				bad("", field, fmt.Sprintf("%q is not a volume of this project", key), "declare it under the top-level volumes:, or remove its settings")
			}
			switch k.Volumes[key].Access {
			case "", AccessReadWriteOnce, AccessReadWriteMany, AccessReadWriteOncePod:
			default:
				bad("", field+".access", fmt.Sprintf("unknown access mode %q", k.Volumes[key].Access),
					"use "+AccessReadWriteOnce+", "+AccessReadWriteMany+" or "+AccessReadWriteOncePod)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		k := p.Services[name].Kubernetes
		if k == nil || k.Liveness == nil {
			continue
		}
		field := ExtensionKey + ".kubernetes.liveness"
		if pr := k.Liveness.Probe; pr != nil {
			if len(pr.Test) == 0 || (pr.Test[0] != "CMD" && pr.Test[0] != "CMD-SHELL") {
				bad(name, field+".test", "the probe has no test", `write test: ["CMD", "/app", "-alive"] or test: "curl -f localhost"`)
			}
			for _, d := range []struct{ key, value string }{{"interval", pr.Interval}, {"timeout", pr.Timeout}, {"start_period", pr.StartPeriod}} {
				if _, err := time.ParseDuration(d.value); d.value != "" && err != nil {
					bad(name, field+"."+d.key, fmt.Sprintf("%q is not a duration", d.value), "write it as 10s, 1m30s, ...")
				}
			}
			continue
		}
		if h := p.Project.Services[name].HealthCheck; k.Liveness.Healthcheck && (h == nil || h.Disable || len(h.Test) == 0 || h.Test[0] == "NONE") {
			bad(name, field, "liveness: true, but the service has no healthcheck to probe with", "add a healthcheck:, or give liveness a probe of its own (test: [...])")
		}
	}
}

// dnsLabel is an RFC 1123 label: what a namespace's name must be.
var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// validateKubernetes checks an environment's Kubernetes settings: namespace
// a DNS label, expose one of its values, and neither (nor context) on an
// environment that another orchestrator deploys.
func (e Environment) validateKubernetes(base *Project, env string) error {
	invalid := func(field, problem, fix string) error {
		ae := base.ErrorAt("", "x-stack.environments."+env+"."+field)
		ae.Problem, ae.Fix, ae.Err = problem, fix, ErrInvalidEnvironment
		return ae
	}
	if e.Orchestrator != OrchestratorKubernetes {
		for field, set := range map[string]bool{"context": e.Context != "", "expose": e.Expose != "", "namespace": e.Namespace != ""} {
			if set {
				return invalid(field, field+" is a Kubernetes setting, and the environment's orchestrator is not kubernetes",
					"write orchestrator: kubernetes, or remove "+field)
			}
		}
		return nil
	}
	if e.Host != "" {
		return invalid("host", "host names a Docker engine, and the environment's orchestrator is kubernetes",
			"name the cluster with context: (a context of your kubeconfig), and remove host")
	}
	if e.Namespace != "" && (len(e.Namespace) > 63 || !dnsLabel.MatchString(e.Namespace)) {
		return invalid("namespace", fmt.Sprintf("namespace %q is not a DNS label (lower-case letters, digits and -, at most 63)", e.Namespace),
			fmt.Sprintf("write it as %q", strings.Trim(strings.ToLower(strings.ReplaceAll(e.Namespace, "_", "-")), "-.")))
	}
	switch e.Expose {
	case "", ExposeNodePort, ExposeLoadBalancer:
	default:
		return invalid("expose", fmt.Sprintf("unknown expose %q", e.Expose), "use "+ExposeNodePort+" (the default) or "+ExposeLoadBalancer)
	}
	return nil
}

// KnownOrchestrator checks the orchestrator an environment names: one that
// ValidOrchestrator accepts.
func KnownOrchestrator(name string) error { return ValidOrchestrator(name) }

package swarm

import (
	"fmt"
	"maps"
	"os"
	"slices"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/api/types/volume"
	"github.com/hashicorp/go-multierror"

	"github.com/stack-deploy/stack/engine"
)

// Options are what Map needs beyond the compose model.
type Options struct {
	// Images holds each service's image as a digest reference,
	// repo@sha256:..., resolved by the caller (pushed or looked up in the
	// registry): every node then runs the same bytes. Every service needs one.
	Images map[string]string
	// APIVersion is the manager's Engine API version, MinAPIVersion at
	// least; fields newer than it are warnings. Empty: no field is too new.
	APIVersion string
	// ReadFile reads the file of a file-sourced secret or config; nil:
	// os.ReadFile.
	ReadFile func(name string) ([]byte, error)
}

// Desired is a project's desired state on a Swarm: the objects the driver
// creates, or compares by hash with what it observes.
type Desired struct {
	Project  string
	Services []Service // sorted by name
	Networks []Network // sorted by key
	Volumes  []Volume  // sorted by key
	Secrets  []Object  // sorted by key
	Configs  []Object  // sorted by key
	Warnings []Warning
}

// Service is the Swarm service of one compose service.
type Service struct {
	// Name is the compose service's name; Spec.Name is the Swarm one.
	Name string
	// Spec is the service spec. Its secret and config references carry
	// names only: Resolve fills in the IDs the manager gave the objects.
	Spec swarm.ServiceSpec
	// Hash covers all of Spec; Spec's labels hold it
	// (engine.LabelConfigHash, engine.LabelConfigParts).
	Hash engine.Hash
	// Job: the service runs to completion (replicated-job or global-job),
	// because others wait for it with service_completed_successfully or its
	// deploy.mode says so.
	Job bool
}

// Network is an overlay network of the project.
type Network struct {
	Key  string // the compose key
	Name string
	// External networks are used, never created; Spec is empty.
	External bool
	Spec     network.CreateOptions
}

// Volume is a named volume of the project. Swarm has no cluster-wide local
// volumes: each node creates it, from the driver and labels in the mounts
// that use it, when a task first mounts it there. Spec says what each node
// creates, for `down -v` to find on every node.
type Volume struct {
	Key      string // the compose key
	Name     string
	External bool
	Spec     volume.CreateOptions
}

// Object is a secret or a config. Swarm objects are immutable, so the name
// carries a hash of the content: a changed file is a new object, and the
// services using it are updated to it.
type Object struct {
	Key  string // the compose key
	Name string
	// External objects are used, never created; Data is empty.
	External bool
	Labels   map[string]string
	Data     []byte
	// Driver is a secret driver (secrets only); Templating a template driver.
	Driver, Templating *swarm.Driver
}

// SecretSpec is the spec to create a secret object from.
func (o Object) SecretSpec() swarm.SecretSpec {
	return swarm.SecretSpec{Annotations: swarm.Annotations{Name: o.Name, Labels: o.Labels}, Data: o.Data, Driver: o.Driver, Templating: o.Templating}
}

// ConfigSpec is the spec to create a config object from.
func (o Object) ConfigSpec() swarm.ConfigSpec {
	return swarm.ConfigSpec{Annotations: swarm.Annotations{Name: o.Name, Labels: o.Labels}, Data: o.Data, Templating: o.Templating}
}

// Warning is a field of the compose model that Swarm cannot honour.
type Warning struct {
	Service string // "" for a top-level network, volume, secret or config
	Field   string // as written in compose: deploy.resources.reservations.devices
	Reason  string
}

func (w Warning) String() string {
	s := fmt.Sprintf("%s is not supported on Swarm (%s); it is ignored", w.Field, w.Reason)
	if w.Service != "" {
		return fmt.Sprintf("service %q: %s", w.Service, s)
	}
	return s
}

// mapper carries one Map call's inputs and what it collects.
type mapper struct {
	p        *types.Project
	opts     Options
	warnings []Warning
	errs     *multierror.Error
	failures int               // len(errs.Errors), which a nil errs cannot tell
	secrets  map[string]Object // by compose key
	configs  map[string]Object
	vols     map[string]Volume // by compose key
}

// Map maps project p to its desired state on a Swarm. Every problem is
// reported at once (a multierror), each naming service and field; nothing
// is read from an engine.
func Map(p *types.Project, opts Options) (*Desired, error) {
	if opts.APIVersion != "" && versions.LessThan(opts.APIVersion, MinAPIVersion) {
		return nil, fmt.Errorf("%w: the manager speaks API %s, the Swarm driver needs %s (Docker 20.10) or newer", ErrAPIVersion, opts.APIVersion, MinAPIVersion)
	}
	if opts.ReadFile == nil {
		opts.ReadFile = os.ReadFile
	}
	m := &mapper{p: p, opts: opts}
	d := &Desired{Project: p.Name}
	m.secrets = m.objects("secrets", LabelSecret, fileObjects(p.Secrets))
	m.configs = m.objects("configs", LabelConfig, configObjects(p.Configs))
	d.Secrets, d.Configs = sortedObjects(m.secrets), sortedObjects(m.configs)
	d.Networks = m.networks()
	d.Volumes = m.volumes()
	m.vols = map[string]Volume{}
	for _, v := range d.Volumes {
		m.vols[v.Key] = v
	}
	jobs := completionDependencies(p)
	for _, name := range slices.Sorted(maps.Keys(p.Services)) {
		if s, ok := m.service(p.Services[name], jobs[name]); ok {
			d.Services = append(d.Services, s)
		}
	}
	d.Warnings = m.warnings
	if err := m.errs.ErrorOrNil(); err != nil {
		return nil, err
	}
	return d, nil
}

func (m *mapper) warn(service, field, reason string) {
	m.warnings = append(m.warnings, Warning{Service: service, Field: field, Reason: reason})
}

// fail records a problem with field of service ("" for a top-level one).
func (m *mapper) fail(service, field string, err error) {
	if service != "" {
		err = fmt.Errorf("service %q: %s: %w", service, field, err)
	} else {
		err = fmt.Errorf("%s: %w", field, err)
	}
	m.errs = multierror.Append(m.errs, err)
	m.failures++
}

// tooOld reports whether the manager is older than API version v, warning
// about field of service when it is.
func (m *mapper) tooOld(service, field, v string) bool {
	if m.opts.APIVersion == "" || !versions.LessThan(m.opts.APIVersion, v) {
		return false
	}
	m.warn(service, field, "needs Engine API "+v+", the manager speaks "+m.opts.APIVersion)
	return true
}

// completionDependencies names the services some other service waits for
// with condition service_completed_successfully: they must run as jobs.
func completionDependencies(p *types.Project) map[string]bool {
	jobs := map[string]bool{}
	for _, s := range p.Services {
		for dep, cfg := range s.DependsOn {
			if cfg.Condition == types.ServiceConditionCompletedSuccessfully {
				jobs[dep] = true
			}
		}
	}
	return jobs
}

// stackLabels are labels with the project's (and more of ours) on top: ours
// win, so that observation finds what it made.
func stackLabels(user map[string]string, ours ...string) map[string]string {
	l := make(map[string]string, len(user)+len(ours)/2)
	for k, v := range user {
		l[k] = v
	}
	for i := 0; i+1 < len(ours); i += 2 {
		l[ours[i]] = ours[i+1]
	}
	return l
}

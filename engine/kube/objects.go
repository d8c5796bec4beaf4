package kube

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/hashicorp/go-multierror"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/compose-spec/compose-go/v2/types"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	batchv1ac "k8s.io/client-go/applyconfigurations/batch/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
)

// Labels and annotations stack puts on the objects it maps, besides
// engine.LabelProject and engine.LabelService.
const (
	// LabelName is the well-known label of the service's name.
	LabelName = "app.kubernetes.io/name"
	// LabelManagedBy is the well-known label of the tool that applies the
	// object; its value is FieldManager.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// LabelApplySetPartOf marks an object as a member of an ApplySet
	// (KEP-3659). The mapping leaves it out: the driver, which knows the
	// ApplySet's parent and id, adds it before applying, and prunes by it.
	LabelApplySetPartOf = "applyset.kubernetes.io/part-of"
	// LabelSecret and LabelConfig hold the compose key of a Secret's or a
	// ConfigMap's secret or config.
	LabelSecret = "io.stack.secret"
	LabelConfig = "io.stack.config"
	// FieldManager is the field manager the driver server-side applies with,
	// and the value of LabelManagedBy.
	FieldManager = "stack"
)

// Kind is the kind of workload a compose service becomes.
type Kind string

// The workload kinds.
const (
	Deployment  Kind = "Deployment"
	StatefulSet Kind = "StatefulSet"
	Job         Kind = "Job"
	DaemonSet   Kind = "DaemonSet"
)

// Options are what Map needs beyond the project.
type Options struct {
	// Namespace the objects go to; empty: the environment's namespace,
	// else the project's name (shop-prod for environment prod of shop).
	Namespace string
	// Expose is how published ports are served, manifest.ExposeNodePort or
	// manifest.ExposeLoadBalancer; empty: the environment's, else NodePort.
	Expose string
	// Images holds the image reference to run per service (repo@sha256:...,
	// once pinned); a service absent from it runs p.ImageName(service).
	Images map[string]string
	// ReadFile reads the file of a file-sourced secret or config; nil:
	// os.ReadFile.
	ReadFile func(name string) ([]byte, error)
}

// Objects are the Kubernetes objects of one project, as the apply
// configurations the driver server-side applies with FieldManager.
type Objects struct {
	Namespace *corev1ac.NamespaceApplyConfiguration
	// ConfigMaps, Secrets and Claims (the claims shared by every pod that
	// mounts their volume) are sorted by name.
	ConfigMaps []*corev1ac.ConfigMapApplyConfiguration
	Secrets    []*corev1ac.SecretApplyConfiguration
	Claims     []*corev1ac.PersistentVolumeClaimApplyConfiguration
	// Services are the compose services, dependencies first, then by name
	// (manifest.Project.ServiceOrder).
	Services []Service
	// Gateway is the project's gateway (gateway.go); nil when it has none.
	Gateway *Gateway
}

// Service is what one compose service becomes.
type Service struct {
	// Name is the compose service's, and every object's of it.
	Name string
	Kind Kind
	// Exactly one of Deployment, StatefulSet, Job and DaemonSet is set, as
	// Kind says.
	Deployment  *appsv1ac.DeploymentApplyConfiguration
	StatefulSet *appsv1ac.StatefulSetApplyConfiguration
	Job         *batchv1ac.JobApplyConfiguration
	DaemonSet   *appsv1ac.DaemonSetApplyConfiguration
	// Service is the Service named like the compose service, through which
	// its name (and so the injected NAME_HOST) resolves: ClusterIP over
	// its ports, or headless when it declares none.
	Service *corev1ac.ServiceApplyConfiguration
	// Published serves its published ports, as a NodePort or LoadBalancer
	// Service named <name>-published; nil when it publishes none.
	Published *corev1ac.ServiceApplyConfiguration
	// Hash is engine.ConfigHash of the service as mapped; the workload and
	// its pod template carry it (engine.LabelConfigHash as an annotation),
	// so a changed secret file rolls the pods.
	Hash engine.Hash
}

// List returns every object in the order to apply them: the namespace,
// what pods mount (config maps, secrets, claims), then per service its
// Services and its workload, then the gateway's.
func (o *Objects) List() []any {
	out := []any{o.Namespace}
	for _, c := range o.ConfigMaps {
		out = append(out, c)
	}
	for _, s := range o.Secrets {
		out = append(out, s)
	}
	for _, c := range o.Claims {
		out = append(out, c)
	}
	for _, s := range o.Services {
		out = append(out, s.Service)
		if s.Published != nil {
			out = append(out, s.Published)
		}
		switch s.Kind {
		case Deployment:
			out = append(out, s.Deployment)
		case StatefulSet:
			out = append(out, s.StatefulSet)
		case Job:
			out = append(out, s.Job)
		case DaemonSet:
			out = append(out, s.DaemonSet)
		}
	}
	if o.Gateway != nil {
		out = append(out, o.Gateway.objects()...)
	}
	return out
}

// mapper carries one Map call's inputs and what it collects.
type mapper struct {
	p        *manifest.Project
	opts     Options
	ns       string
	warnings engine.Warnings
	errs     []*manifest.Error
	// claims are the shared claims by volume key, volumes each named
	// volume's object name and whether its claim is per replica.
	claims  map[string]*corev1ac.PersistentVolumeClaimApplyConfiguration
	volumes map[string]volume
	// secrets and configs are the object names by compose key.
	secrets, configs map[string]string
	// jobs are the services that run to completion, global those that run
	// a pod on every node.
	jobs, global map[string]bool
	// nodePorts are the services by the NodePort they publish (30080/TCP).
	nodePorts map[string]string
}

// Map maps project p to its Kubernetes objects, in one namespace, without a
// cluster. Every problem is reported at once, each a *manifest.Error naming
// file, line, service and field (a multierror of them when several); the
// warnings, by resource (service:web, volume:data), name each field that
// Kubernetes cannot honour and say what is done instead.
func Map(p *manifest.Project, opts Options) (*Objects, engine.Warnings, error) {
	if opts.ReadFile == nil {
		opts.ReadFile = os.ReadFile
	}
	m := &mapper{p: p, opts: opts, warnings: engine.Warnings{}, jobs: completionDependencies(p.Project), global: map[string]bool{}, nodePorts: map[string]string{}}
	for name, s := range p.Project.Services {
		if s.Deploy != nil && s.Deploy.Mode == "global" && !m.jobs[name] {
			m.global[name] = true
		}
	}
	m.defaults()
	out := &Objects{Namespace: corev1ac.Namespace(m.ns).WithLabels(m.labels(""))}
	m.checkNames()
	out.ConfigMaps = m.configMaps()
	out.Secrets = m.secretObjects()
	m.mapVolumes()
	for _, name := range p.ServiceOrder() {
		if s, ok := m.service(p.Project.Services[name]); ok {
			out.Services = append(out.Services, s)
		}
	}
	for _, key := range sortedKeys(m.claims) {
		out.Claims = append(out.Claims, m.claims[key])
	}
	out.Gateway = m.gateway()
	if err := m.err(); err != nil {
		return nil, nil, err
	}
	return out, m.warnings, nil
}

// defaults fills in the namespace and the exposure from the environment.
func (m *mapper) defaults() {
	env := manifest.Environment{}
	if m.p.Env != nil {
		env = m.p.Env.Environment
	}
	m.ns = m.opts.Namespace
	field := "name"
	if m.ns == "" && env.Namespace != "" {
		m.ns, field = env.Namespace, "x-stack.environments."+m.p.Env.Name+".namespace"
	}
	if m.ns == "" {
		m.ns = m.p.Name
	}
	if m.opts.Expose == "" {
		m.opts.Expose = env.Expose
	}
	if errs := validation.IsValidLabelValue(m.p.Name); len(errs) > 0 {
		e := m.p.ErrorAt("", "name")
		e.Problem = fmt.Sprintf("project name %q cannot be the value of label %s: %s", m.p.Name, engine.LabelProject, strings.Join(errs, "; "))
		e.Fix = "shorten the project's name (name: or -p)"
		e.Err = ErrInvalidName
		m.errs = append(m.errs, e)
	}
	if !isLabel(m.ns) {
		e := m.p.ErrorAt("", field)
		e.Problem = fmt.Sprintf("namespace %q (the project's name) is not a DNS label: lower-case letters, digits and -, at most 63", m.ns)
		e.Fix = "name the namespace with the environment's namespace: setting, or the project with name: / -p"
		e.Err = ErrInvalidName
		m.errs = append(m.errs, e)
	}
}

// warn records that field of service is not honoured as written, and why.
func (m *mapper) warn(service, field, why string) {
	m.warnings["service:"+service] = append(m.warnings["service:"+service], fmt.Sprintf("%s: %s", field, why))
}

// fail records a user error about field of service ("" for a top-level one).
func (m *mapper) fail(service, field string, err error, problem, fix string) {
	e := m.p.ErrorAt(service, field)
	e.Problem, e.Fix, e.Err = problem, fix, err
	m.errs = append(m.errs, e)
}

// labels are the labels of every object of the project, and of service's
// when service is not empty: the pod selector is these minus LabelManagedBy.
func (m *mapper) labels(service string) map[string]string {
	l := map[string]string{engine.LabelProject: m.p.Name, LabelManagedBy: FieldManager}
	if service != "" {
		l[engine.LabelService] = service
		l[LabelName] = service
	}
	return l
}

// selector picks the pods of service.
func (m *mapper) selector(service string) map[string]string {
	return map[string]string{engine.LabelProject: m.p.Name, engine.LabelService: service}
}

// completionDependencies names the services that run to completion: those
// some other service waits for with condition
// service_completed_successfully, and those whose deploy.mode is a job's.
func completionDependencies(p *types.Project) map[string]bool {
	jobs := map[string]bool{}
	for name, s := range p.Services {
		if s.Deploy != nil && (s.Deploy.Mode == "replicated-job" || s.Deploy.Mode == "global-job") {
			jobs[name] = true
		}
		for dep, cfg := range s.DependsOn {
			if cfg.Condition == types.ServiceConditionCompletedSuccessfully {
				jobs[dep] = true
			}
		}
	}
	return jobs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// err returns nil, the one error, or every error in file and line order.
func (m *mapper) err() error {
	switch len(m.errs) {
	case 0:
		return nil
	case 1:
		return m.errs[0]
	}
	sort.SliceStable(m.errs, func(i, j int) bool {
		a, b := m.errs[i], m.errs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	errs := make([]error, len(m.errs))
	for i, e := range m.errs {
		errs[i] = e
	}
	return &multierror.Error{Errors: errs, ErrorFormat: formatProblems}
}

func formatProblems(errs []error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems mapping the project to Kubernetes:", len(errs))
	for _, e := range errs {
		b.WriteString("\n  " + e.Error())
	}
	return b.String()
}

package kube

import (
	"context"
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
)

// Cluster is what Observe read of a project, in Kubernetes terms: what
// Operations needs beyond engine.Observed (Observed.Driver).
type Cluster struct {
	Namespace string
	// Workloads are the project's workloads by compose service.
	Workloads map[string]Workload
	// Claims are the names of each volume's claims, by compose key: one
	// shared claim, or a StatefulSet's claims, one per replica.
	Claims map[string][]string
	// Objects are every object carrying the project's label, for down and
	// prune.
	Objects []Object
	// OneOffs are the services that have one-off Jobs (`stack run`), whose
	// objects are under <service>-run.
	OneOffs map[string]bool
	// Gateway is the project's gateway Deployment; nil when it has none.
	Gateway *Workload
	// raw are the objects as read, by kind/name: what an undo restores.
	raw map[string]any
}

// Workload is one service's workload as the cluster holds it.
type Workload struct {
	Kind Kind
	Name string
	// Hash and Parts are the config hash its pod template carries;
	// Routes the gateway's routes hash (AnnotationGatewayRoutes).
	Hash, Parts, Routes string
	// Replicas is what its spec asks for, Ready how many pods are ready,
	// Succeeded how many ran to completion (a Job).
	Replicas, Ready, Succeeded int
	// Failed says why a Job failed; Broken why pods of its current
	// template cannot run (ImagePullBackOff, CrashLoopBackOff, ...); Drift
	// which fields of its service's objects were edited outside stack.
	Failed, Broken, Drift string
}

// Object names one object of the project.
type Object struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Service string `json:"service,omitempty"`
	// Headless marks a Service without a cluster IP, which cannot get one
	// (nor lose it) in place.
	Headless bool `json:"headless,omitempty"`
	// Gateway marks the gateway's objects, which its action alone
	// applies and deletes.
	Gateway bool `json:"gateway,omitempty"`
}

// Observe reads the objects carrying p's project label in its namespace:
// the workloads (Deployments, StatefulSets, DaemonSets, Jobs) as services,
// the claims as volumes, and the pods for why a rollout is stuck. The
// compose networks are the namespace, one flat network: they are observed
// as there while any workload of the project is.
func (d *Driver) Observe(ctx context.Context, p *manifest.Project) (*engine.Observed, error) {
	c, _, err := d.read(ctx, d.namespaceOf(p), p.Name)
	if err != nil {
		return nil, err
	}
	c.drift(func() map[string]*fieldpath.Set { return d.desiredFields(p) })
	return observed(p, c), nil
}

// drift records on each workload the fields of its service's objects
// that another manager took from stack (drift.go). desired, the field sets
// of the objects as mapped, is only computed when an object has fields of
// another manager at all: a project nobody edited costs nothing more.
func (c *Cluster) drift(desired func() map[string]*fieldpath.Set) {
	var want map[string]*fieldpath.Set
	for _, key := range sortedKeys(c.raw) {
		obj, ok := c.raw[key].(metav1.Object)
		if !ok || !edited(obj.GetManagedFields()) {
			continue
		}
		if want == nil {
			if want = desired(); want == nil {
				return
			}
		}
		w, ok := c.Workloads[obj.GetLabels()[engine.LabelService]]
		if why := drift(obj.GetManagedFields(), want[key]); ok && why != "" {
			kind, _, _ := strings.Cut(key, "/")
			w.Drift = strings.TrimPrefix(w.Drift+"; ", "; ") + strings.ToLower(kind) + " " + obj.GetName() + ": " + why
			c.Workloads[obj.GetLabels()[engine.LabelService]] = w
		}
	}
}

// read lists the project's objects in ns.
func (d *Driver) read(ctx context.Context, ns, project string) (*Cluster, []corev1.Pod, error) {
	c := &Cluster{Namespace: ns, Workloads: map[string]Workload{}, Claims: map[string][]string{}, raw: map[string]any{}}
	opts := metav1.ListOptions{LabelSelector: engine.LabelProject + "=" + project}
	apps, batch, core := d.client.AppsV1(), d.client.BatchV1(), d.client.CoreV1()
	deps, err := apps.Deployments(ns).List(ctx, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("listing the deployments of %s: %w", project, err)
	}
	for i := range deps.Items {
		w := &deps.Items[i]
		c.add("Deployment", w, deploymentWorkload(w))
		if w.Labels[LabelGateway] == "true" {
			c.Gateway = deploymentWorkload(w)
			c.Gateway.Kind, c.Gateway.Name = Deployment, w.Name
		}
	}
	sets, err := apps.StatefulSets(ns).List(ctx, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("listing the statefulsets of %s: %w", project, err)
	}
	for i := range sets.Items {
		w := &sets.Items[i]
		c.add("StatefulSet", w, statefulSetWorkload(w))
	}
	daemons, err := apps.DaemonSets(ns).List(ctx, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("listing the daemonsets of %s: %w", project, err)
	}
	for i := range daemons.Items {
		w := &daemons.Items[i]
		c.add("DaemonSet", w, daemonSetWorkload(w))
	}
	jobs, err := batch.Jobs(ns).List(ctx, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("listing the jobs of %s: %w", project, err)
	}
	for i := range jobs.Items {
		w := &jobs.Items[i]
		c.add("Job", w, jobWorkload(w))
	}
	if err := d.readCore(ctx, c, opts); err != nil {
		return nil, nil, err
	}
	pods, err := core.Pods(ns).List(ctx, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("listing the pods of %s: %w", project, err)
	}
	for svc, w := range c.Workloads {
		if w.Broken == "" {
			w.Broken = podTrouble(pods.Items, svc, w.Hash)
		}
		if w.Broken == "" {
			w.Broken = podCrashing(pods.Items, svc, w.Hash)
		}
		c.Workloads[svc] = w
	}
	sort.Slice(c.Objects, func(i, j int) bool {
		a, b := c.Objects[i], c.Objects[j]
		return a.Kind < b.Kind || a.Kind == b.Kind && a.Name < b.Name
	})
	return c, pods.Items, nil
}

// readCore lists the project's Services, claims, Secrets and ConfigMaps.
func (d *Driver) readCore(ctx context.Context, c *Cluster, opts metav1.ListOptions) error {
	core := d.client.CoreV1()
	svcs, err := core.Services(c.Namespace).List(ctx, opts)
	if err != nil {
		return fmt.Errorf("listing the services: %w", err)
	}
	for i := range svcs.Items {
		s := &svcs.Items[i]
		c.add("Service", s, nil)
		c.Objects[len(c.Objects)-1].Headless = s.Spec.ClusterIP == corev1.ClusterIPNone
	}
	claims, err := core.PersistentVolumeClaims(c.Namespace).List(ctx, opts)
	if err != nil {
		return fmt.Errorf("listing the persistent volume claims: %w", err)
	}
	for i := range claims.Items {
		pvc := &claims.Items[i]
		c.add("PersistentVolumeClaim", pvc, nil)
		if key := pvc.Labels[engine.LabelVolume]; key != "" {
			c.Claims[key] = append(c.Claims[key], pvc.Name)
		}
	}
	secrets, err := core.Secrets(c.Namespace).List(ctx, opts)
	if err != nil {
		return fmt.Errorf("listing the secrets: %w", err)
	}
	for i := range secrets.Items {
		c.add("Secret", &secrets.Items[i], nil)
	}
	maps, err := core.ConfigMaps(c.Namespace).List(ctx, opts)
	if err != nil {
		return fmt.Errorf("listing the config maps: %w", err)
	}
	for i := range maps.Items {
		c.add("ConfigMap", &maps.Items[i], nil)
	}
	return nil
}

// add records an object, and a workload under its service.
func (c *Cluster) add(kind string, obj metav1.Object, w *Workload) {
	svc := obj.GetLabels()[engine.LabelService]
	if c.oneOff(obj, svc) {
		return
	}
	if c.raw != nil {
		c.raw[kind+"/"+obj.GetName()] = obj
	}
	c.Objects = append(c.Objects, Object{Kind: kind, Name: obj.GetName(), Service: svc, Gateway: obj.GetLabels()[LabelGateway] == "true"})
	if w != nil && svc != "" {
		w.Kind, w.Name = Kind(kind), obj.GetName()
		c.Workloads[svc] = *w
	}
}

func deploymentWorkload(o *appsv1.Deployment) *Workload {
	w := templateWorkload(o.Spec.Template)
	w.Replicas, w.Ready = specReplicas(o.Spec.Replicas), int(o.Status.ReadyReplicas)
	return w
}

func statefulSetWorkload(o *appsv1.StatefulSet) *Workload {
	w := templateWorkload(o.Spec.Template)
	w.Replicas, w.Ready = specReplicas(o.Spec.Replicas), int(o.Status.ReadyReplicas)
	return w
}

func daemonSetWorkload(o *appsv1.DaemonSet) *Workload {
	w := templateWorkload(o.Spec.Template)
	w.Replicas, w.Ready = int(o.Status.DesiredNumberScheduled), int(o.Status.NumberReady)
	return w
}

func jobWorkload(o *batchv1.Job) *Workload {
	w := templateWorkload(o.Spec.Template)
	w.Replicas, w.Ready, w.Succeeded = specReplicas(o.Spec.Completions), int(o.Status.Active), int(o.Status.Succeeded)
	w.Failed = jobFailure(o)
	return w
}

func templateWorkload(t corev1.PodTemplateSpec) *Workload {
	return &Workload{Hash: t.Annotations[engine.LabelConfigHash], Parts: t.Annotations[engine.LabelConfigParts], Routes: t.Annotations[AnnotationGatewayRoutes]}
}

func specReplicas(n *int32) int {
	if n == nil {
		return 1
	}
	return int(*n)
}

// observed gives what the cluster holds the shape engine.Diff compares
// with (see Observe).
func observed(p *manifest.Project, c *Cluster) *engine.Observed {
	out := &engine.Observed{Driver: c}
	for _, svc := range sortedKeys(c.Workloads) {
		out.Services = append(out.Services, serviceState(svc, c.Workloads[svc]))
	}
	out.Services = append(out.Services, c.oneOffStates()...)
	out.Gateway = c.gatewayState()
	if len(c.Workloads) > 0 {
		for _, key := range sortedKeys(p.Project.Networks) {
			n := p.Project.Networks[key]
			if bool(n.External) {
				continue
			}
			h, _ := engine.ResourceHash(n)
			out.Networks = append(out.Networks, engine.Resource{Key: key, Name: n.Name, ID: c.Namespace, Hash: h})
		}
	}
	for _, key := range sortedKeys(c.Claims) {
		name := c.Claims[key][0]
		if v, ok := p.Project.Volumes[key]; ok {
			name = v.Name
		}
		out.Volumes = append(out.Volumes, engine.Resource{Key: key, Name: name})
	}
	return out
}

// serviceState is one workload in the terms every orchestrator has.
func serviceState(svc string, w Workload) engine.ServiceState {
	s := engine.ServiceState{Name: svc, Replicas: w.Replicas, Running: w.Ready, Completed: w.Succeeded, Broken: w.Broken, Drift: w.Drift}
	if w.Hash != "" {
		s.Versions = []engine.Version{{Hash: w.Hash, Parts: w.Parts, Count: w.Replicas}}
	}
	switch {
	case w.Failed != "":
		s.Stopped = w.Failed
	case w.Replicas == 0 && w.Kind != Job && w.Kind != DaemonSet:
		s.Stopped = "scaled to 0 (stack stop)"
	}
	return s
}

package kube

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	batchv1ac "k8s.io/client-go/applyconfigurations/batch/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
)

var _ engine.Runner = (*Driver)(nil)

// cleanupTimeout bounds the calls made once the run's context is done:
// deleting a one-off Job.
const cleanupTimeout = 30 * time.Second

// Run runs a one-off command of a service of p (its addresses injected, its
// images pinned) as a Job of one pod, <service>-run-<id>, in the project's
// namespace: the service's pod template as mapped (image, environment,
// secrets, configs, volumes: a per-replica volume is replica 0's claim,
// made if missing, which the StatefulSet later adopts), with the command,
// entrypoint and environment o gives, restartPolicy Never and no retry,
// no probes, labelled io.stack.oneoff=true. Its output (one stream: a
// pod's log does not keep stdout and stderr apart) goes to o.Stdout, and
// the exit code of its container is returned. With o.Remove, or when ctx
// is cancelled, the Job and its pod are deleted afterwards. Detached, the
// Job is created and Run returns 0 (with o.Remove the cluster deletes it
// once it finished). A pod's standard input cannot be attached through the
// API the driver uses: -i is refused, as CheckRun says with the other flags
// a Job cannot honour.
func (d *Driver) Run(ctx context.Context, p *manifest.Project, o engine.RunOptions) (int, error) {
	if err := d.CheckRun(o); err != nil {
		return 0, err
	}
	// -u, -w and the capabilities are the one-off's service's fields,
	// mapped as up maps them.
	objs, _, err := d.mapProject(o.OneOffProject(p))
	if err != nil {
		return 0, err
	}
	s, ok := objs.service(o.Service)
	if !ok {
		return 0, fmt.Errorf("no such service: %q", o.Service)
	}
	ns := *objs.Namespace.Name
	objs.joinApplySet() // as up applies them: the apply must not take an object out of the set
	x := &executor{client: d.client, wait: defaultWait}
	for _, obj := range oneOffNeeds(objs, s, p) {
		if err := x.apply(ctx, obj); err != nil {
			return 0, err
		}
	}
	job := oneOffJob(s, ns, o)
	if err := x.apply(ctx, job); err != nil {
		return 0, err
	}
	name := *job.Name
	if o.Detach {
		if o.Detached != nil {
			o.Detached(name)
		}
		return 0, nil
	}
	defer func() {
		if o.Remove || ctx.Err() != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			defer cancel()
			_ = x.delete(cctx, ns, Object{Kind: "Job", Name: name})
		}
	}()
	return d.follow(ctx, ns, name, o)
}

// oneOffNeeds are the objects the one-off's pod mounts: the namespace (and
// the ApplySet's parent), its config maps, secrets and shared claims, and
// the claims of replica 0 of its per-replica volumes.
func oneOffNeeds(objs *Objects, s Service, p *manifest.Project) []any {
	all := objs.forService(s, p, applySetParent(p.Name, *objs.Namespace.Name))
	var out []any
	for _, obj := range all[:len(all)-1] {
		switch obj.(type) {
		case *corev1ac.NamespaceApplyConfiguration, *corev1ac.ConfigMapApplyConfiguration,
			*corev1ac.SecretApplyConfiguration, *corev1ac.PersistentVolumeClaimApplyConfiguration:
			out = append(out, obj)
		}
	}
	if s.Kind == StatefulSet && s.StatefulSet.Spec != nil {
		for _, t := range s.StatefulSet.Spec.VolumeClaimTemplates {
			c := corev1ac.PersistentVolumeClaim(replicaClaim(*t.Name, s.Name), *objs.Namespace.Name).WithLabels(t.Labels)
			c.Spec = t.Spec
			out = append(out, c)
		}
	}
	return out
}

// replicaClaim is the claim a StatefulSet gives replica 0 from template t.
func replicaClaim(t, service string) string { return t + "-" + service + "-0" }

// template is the pod template of the service's workload.
func (s Service) template() *corev1ac.PodTemplateSpecApplyConfiguration {
	switch s.Kind {
	case StatefulSet:
		return s.StatefulSet.Spec.Template
	case Job:
		return s.Job.Spec.Template
	case DaemonSet:
		return s.DaemonSet.Spec.Template
	}
	return s.Deployment.Spec.Template
}

// oneOffJob makes the one-off's Job of the service's pod template.
func oneOffJob(s Service, ns string, o engine.RunOptions) *batchv1ac.JobApplyConfiguration {
	name := o.Name
	if name == "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		name = s.Name + engine.OneOffSuffix + "-" + hex.EncodeToString(b)
	}
	t := s.template()
	labels := o.WithLabels(nil) // stack's own win
	for k, v := range t.Labels {
		labels[k] = v
	}
	labels[engine.LabelOneoff] = "true"
	pod := *t.Spec
	pod.WithRestartPolicy(corev1.RestartPolicyNever)
	if s.Kind == StatefulSet {
		pod.Volumes = append([]corev1ac.VolumeApplyConfiguration{}, pod.Volumes...)
		for _, ct := range s.StatefulSet.Spec.VolumeClaimTemplates {
			pod.WithVolumes(corev1ac.Volume().WithName(*ct.Name).
				WithPersistentVolumeClaim(corev1ac.PersistentVolumeClaimVolumeSource().WithClaimName(replicaClaim(*ct.Name, s.Name))))
		}
	}
	c := pod.Containers[0]
	if len(o.Command) > 0 {
		c.Args = escapeAll(o.Command)
	}
	if o.Entrypoint != nil {
		c.Command = escapeAll(o.Entrypoint)
	}
	c.Env = append([]corev1ac.EnvVarApplyConfiguration{}, c.Env...)
	for _, kv := range o.Env {
		k, v, _ := strings.Cut(kv, "=")
		c.WithEnv(corev1ac.EnvVar().WithName(k).WithValue(escape(v)))
	}
	c.ReadinessProbe, c.LivenessProbe, c.StartupProbe = nil, nil, nil
	if !o.ServicePorts {
		c.Ports = nil
	}
	pod.Containers = []corev1ac.ContainerApplyConfiguration{c}
	tmpl := corev1ac.PodTemplateSpec().WithLabels(labels).WithSpec(&pod)
	spec := batchv1ac.JobSpec().WithTemplate(tmpl).WithBackoffLimit(0).WithCompletions(1).WithParallelism(1)
	if o.Detach && o.Remove {
		spec.WithTTLSecondsAfterFinished(0) // nothing waits to remove it: the cluster does
	}
	return batchv1ac.Job(name, ns).WithLabels(labels).WithSpec(spec)
}

// follow waits for the one-off Job's pod to start, streams its log until
// the container ends, and returns its exit code. A pod that cannot start
// (ImagePullBackOff, unschedulable) ends it with the pod's reason.
func (d *Driver) follow(ctx context.Context, ns, job string, o engine.RunOptions) (int, error) {
	x := &executor{client: d.client, wait: defaultWait}
	var pod *corev1.Pod
	err := x.poll(ctx, "the one-off job "+job+" to start", func(ctx context.Context) (bool, error) {
		pods, err := d.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "batch.kubernetes.io/job-name=" + job})
		if err != nil {
			return false, fmt.Errorf("listing the pods of the one-off job %s: %w", job, err)
		}
		for i, p := range pods.Items {
			if why := podTrouble(pods.Items[i:i+1], p.Labels[engine.LabelService], ""); why != "" {
				return false, fmt.Errorf("running the one-off job %s: %s", job, why)
			}
			if p.Status.Phase != corev1.PodPending {
				pod = &pods.Items[i]
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return 0, err
	}
	out := o.Stdout
	if out == nil {
		out = io.Discard
	}
	rc, err := d.client.CoreV1().Pods(ns).GetLogs(pod.Name, &corev1.PodLogOptions{Follow: true}).Stream(ctx)
	if err != nil {
		return 0, fmt.Errorf("following the log of pod %s: %w", pod.Name, err)
	}
	_, err = io.Copy(out, rc)
	rc.Close()
	if err != nil && ctx.Err() != nil {
		return 0, ctx.Err()
	}
	return d.exitCode(ctx, x, ns, pod.Name)
}

// exitCode waits for the pod's container to end and returns its code.
func (d *Driver) exitCode(ctx context.Context, x *executor, ns, pod string) (int, error) {
	code := 0
	err := x.poll(ctx, "pod "+pod+" to end", func(ctx context.Context) (bool, error) {
		p, err := d.client.CoreV1().Pods(ns).Get(ctx, pod, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, fmt.Errorf("pod %s of the one-off job was deleted before it ended", pod)
		}
		if err != nil {
			return false, fmt.Errorf("reading pod %s: %w", pod, err)
		}
		for _, cs := range p.Status.ContainerStatuses {
			if t := cs.State.Terminated; t != nil {
				code = int(t.ExitCode)
				return true, nil
			}
		}
		return false, nil
	})
	return code, err
}

// oneOff records an object of a one-off run under <service>-run, apart
// from the service's own workload, and reports whether meta is one.
func (c *Cluster) oneOff(meta metav1.Object, svc string) bool {
	if meta.GetLabels()[engine.LabelOneoff] != "true" || svc == "" {
		return false
	}
	if c.OneOffs == nil {
		c.OneOffs = map[string]bool{}
	}
	c.OneOffs[svc] = true
	c.Objects = append(c.Objects, Object{Kind: "Job", Name: meta.GetName(), Service: svc + engine.OneOffSuffix})
	return true
}

// oneOffStates are the one-off runs as engine.Down sees them.
func (c *Cluster) oneOffStates() []engine.ServiceState {
	var out []engine.ServiceState
	for _, svc := range sortedKeys(c.OneOffs) {
		out = append(out, engine.ServiceState{Name: svc, OneOff: true})
	}
	return out
}

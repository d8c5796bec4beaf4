package kube

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/remotecommand"
	utilexec "k8s.io/client-go/util/exec"
	"k8s.io/streaming/pkg/httpstream"

	"github.com/stack-deploy/stack/engine"
)

var _ engine.Execer = (*Driver)(nil)

// Exec runs o.Command in the container of one ready pod of o.Service (the
// Index-th by name, the first by default) through the API server's
// pods/exec, as kubectl exec does: over WebSocket, else SPDY for an older
// server. Standard input is attached when o.Stdin is set (never a
// terminal); the command's exit code is returned. o.Env is passed through
// env(1), which the image must have; a pod's exec has no user, working
// directory or privileges of its own, so --user, --workdir and
// --privileged are refused.
func (d *Driver) Exec(ctx context.Context, project string, o engine.ExecOptions) (int, error) {
	if err := execRefused(o); err != nil {
		return 0, err
	}
	if d.config == nil {
		return 0, errors.New("stack exec: the Kubernetes driver was given a client without its connection (WithClient): it cannot open pods/exec")
	}
	pod, err := d.execPod(ctx, project, o.Service, max(o.Index, 1))
	if err != nil {
		return 0, err
	}
	cmd := o.Command
	if len(o.Env) > 0 {
		cmd = append(append([]string{"env"}, o.Env...), cmd...)
	}
	req := d.client.CoreV1().RESTClient().Post().Resource("pods").Namespace(pod.Namespace).Name(pod.Name).SubResource("exec").
		VersionedParams(&corev1.PodExecOptions{
			Container: pod.Spec.Containers[0].Name, Command: cmd,
			Stdin: o.Stdin != nil, Stdout: o.Stdout != nil, Stderr: o.Stderr != nil,
		}, scheme.ParameterCodec)
	x, err := d.executor(req.URL().String())
	if err != nil {
		return 0, fmt.Errorf("executing in pod %s: %w", pod.Name, err)
	}
	err = x.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr})
	var exit utilexec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitStatus(), nil
	}
	if err != nil {
		return 0, fmt.Errorf("executing %q in pod %s: %w", strings.Join(o.Command, " "), pod.Name, err)
	}
	return 0, nil
}

// executor talks WebSocket to the API server, and SPDY to one that cannot
// upgrade to it, as kubectl does.
func (d *Driver) executor(u string) (remotecommand.Executor, error) {
	ws, err := remotecommand.NewWebSocketExecutor(d.config, "GET", u)
	if err != nil {
		return nil, err
	}
	parsed, err := url.Parse(u)
	if err != nil {
		return nil, err
	}
	spdy, err := remotecommand.NewSPDYExecutor(d.config, "POST", parsed)
	if err != nil {
		return nil, err
	}
	return remotecommand.NewFallbackExecutor(ws, spdy, func(err error) bool {
		return httpstream.IsUpgradeFailure(err) || httpstream.IsHTTPSProxyError(err)
	})
}

// execRefused names the flags a pod's exec cannot honour.
func execRefused(o engine.ExecOptions) error {
	var flags []string
	if o.User != "" {
		flags = append(flags, "--user")
	}
	if o.WorkingDir != "" {
		flags = append(flags, "--workdir")
	}
	if o.Privileged {
		flags = append(flags, "--privileged")
	}
	if len(flags) == 0 {
		return nil
	}
	return fmt.Errorf("stack exec %s: %w by the kubernetes orchestrator: a pod's exec runs as its container does (set user, working_dir or privileged on the service)", strings.Join(flags, " "), engine.ErrUnsupported)
}

// execPod is the index-th ready pod of service, by name.
func (d *Driver) execPod(ctx context.Context, project, service string, index int) (corev1.Pod, error) {
	sel := engine.LabelProject + "=" + project + "," + engine.LabelService + "=" + service
	list, err := d.client.CoreV1().Pods(d.leaseNamespace(project)).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return corev1.Pod{}, fmt.Errorf("listing the pods of service %q: %w", service, err)
	}
	var ready []corev1.Pod
	for _, p := range list.Items {
		if p.Labels[engine.LabelOneoff] != "true" && p.DeletionTimestamp == nil && podReady(p) && len(p.Spec.Containers) > 0 {
			ready = append(ready, p)
		}
	}
	sort.Slice(ready, func(i, j int) bool { return ready[i].Name < ready[j].Name })
	if len(ready) < index {
		return corev1.Pod{}, fmt.Errorf("stack exec: service %q of %s has %d ready pods, not a pod %d: %w", service, project, len(ready), index, engine.ErrNotRunning)
	}
	return ready[index-1], nil
}

// podReady says whether p runs and is ready.
func podReady(p corev1.Pod) bool {
	if p.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

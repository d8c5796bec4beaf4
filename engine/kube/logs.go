package kube

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	timetypes "github.com/docker/docker/api/types/time"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/internal/dag"
)

var _ engine.Logger = (*Driver)(nil)

// Logs reads the output of the project's pods from the kubelets (pods/log),
// each line named after its service, pod (replica) and node: without
// Follow every line of every pod, merged in time order; with Follow as
// they come, taking in the pods that start meanwhile (a rollout's), until
// ctx is cancelled or Until passes. Index picks the service's n-th pod by
// name. A container's output is one stream on Kubernetes: every line is
// "stdout". Previous reads what the container left before its last
// restart, as kubectl logs --previous does; Until is applied here, the
// API having no such bound, and ends a Follow when it passes.
func (d *Driver) Logs(ctx context.Context, project string, o engine.LogsOptions, line func(engine.LogLine)) error {
	since, until, err := logWindow(o.Since, o.Until, time.Now())
	if err != nil {
		return err
	}
	if _, err := tailLines(o.Tail); err != nil {
		return err
	}
	pods, rv, err := d.logPods(ctx, project, o)
	if err != nil {
		return err
	}
	if o.Previous {
		o.Follow = false
	}
	if o.Follow && !until.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, until)
		defer cancel()
	}
	var mu sync.Mutex
	var merged []engine.LogLine
	emit := func(l engine.LogLine) {
		if !until.IsZero() && l.Time.After(until) || l.Time.Before(since) { // the API's sinceTime is in whole seconds
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if o.Follow {
			line(l)
		} else {
			merged = append(merged, l)
		}
	}
	var noPrevious int
	newPods := make(chan struct{})
	if o.Follow && o.Index == 0 {
		go func() {
			defer close(newPods)
			d.followNewPods(ctx, project, rv, o, pods, emit)
		}()
	} else {
		close(newPods)
	}
	err = dag.Each(ctx, len(pods), 0, func(ctx context.Context, i int) error {
		err := d.podLogs(ctx, pods[i], o, since, emit)
		if o.Previous && err != nil && ctx.Err() == nil {
			mu.Lock()
			noPrevious++ // a container never restarted has no previous log
			mu.Unlock()
			return nil
		}
		return err
	})
	<-newPods
	if ctx.Err() != nil {
		if o.Follow && !until.IsZero() && !time.Now().Before(until) {
			return nil // --until passed
		}
		return ctx.Err()
	}
	if err != nil {
		return err
	}
	if o.Previous && noPrevious == len(pods) {
		return fmt.Errorf("reading the logs of %s: %w: no container of its pods restarted", project, engine.ErrNoPrevious)
	}
	sort.SliceStable(merged, func(i, j int) bool { return merged[i].Time.Before(merged[j].Time) })
	for _, l := range merged {
		line(l)
	}
	return nil
}

// logPod is one pod whose output is read, as a container of its service.
type logPod struct {
	pod corev1.Pod
	c   engine.Container
}

// logPods lists the project's pods that have output (not pending), of the
// services o names, numbered 1, 2, ... by name within their service, and
// only the Index-th when o says.
func (d *Driver) logPods(ctx context.Context, project string, o engine.LogsOptions) ([]logPod, string, error) {
	list, err := d.client.CoreV1().Pods(d.leaseNamespace(project)).List(ctx, metav1.ListOptions{LabelSelector: engine.LabelProject + "=" + project})
	if err != nil {
		return nil, "", fmt.Errorf("listing the pods of %s: %w", project, err)
	}
	items := list.Items
	sort.Slice(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	var out []logPod
	n := map[string]int{}
	for _, p := range items {
		svc := p.Labels[engine.LabelService]
		if svc == "" || p.Labels[engine.LabelOneoff] == "true" || !wantService(svc, o.Services) {
			continue
		}
		n[svc]++
		if o.Index > 0 && n[svc] != o.Index || p.Status.Phase == corev1.PodPending || p.Status.Phase == "" {
			continue
		}
		out = append(out, logPod{pod: p, c: engine.Container{ID: string(p.UID), Name: p.Name, Service: svc, Number: n[svc], State: podStatus(p).State}})
	}
	return out, list.ResourceVersion, nil
}

// podLogs streams one pod's log with timestamps and hands on each line.
func (d *Driver) podLogs(ctx context.Context, lp logPod, o engine.LogsOptions, since time.Time, emit func(engine.LogLine)) error {
	opts := &corev1.PodLogOptions{Follow: o.Follow, Timestamps: true, Previous: o.Previous}
	if n, _ := tailLines(o.Tail); n >= 0 { // checked by Logs
		opts.TailLines = &n
	}
	if !since.IsZero() {
		opts.SinceTime = &metav1.Time{Time: since}
	}
	rc, err := d.client.CoreV1().Pods(lp.pod.Namespace).GetLogs(lp.pod.Name, opts).Stream(ctx)
	if err != nil {
		return fmt.Errorf("reading the logs of pod %s: %w", lp.pod.Name, err)
	}
	defer rc.Close()
	r := bufio.NewReader(rc)
	for {
		raw, err := r.ReadString('\n')
		if raw != "" {
			emit(logLine(lp, strings.TrimSuffix(raw, "\n")))
		}
		if errors.Is(err, io.EOF) || err != nil && ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the logs of pod %s: %w", lp.pod.Name, err)
		}
	}
}

// logLine parses a kubelet line, "<RFC 3339 time> <text>".
func logLine(lp logPod, raw string) engine.LogLine {
	ts, text, _ := strings.Cut(raw, " ")
	at, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		text = raw
	}
	return engine.LogLine{Container: lp.c, Stream: "stdout", Time: at, Text: text, Node: lp.pod.Spec.NodeName}
}

// wantService says whether svc is one of services (any when none).
func wantService(svc string, services []string) bool {
	if len(services) == 0 {
		return true
	}
	for _, s := range services {
		if s == svc {
			return true
		}
	}
	return false
}

// logWindow reads --since and --until as docker logs does (a time, a Unix
// time or a duration before now); zero where not given.
func logWindow(since, until string, now time.Time) (time.Time, time.Time, error) {
	var out [2]time.Time
	for i, v := range []string{since, until} {
		if v == "" {
			continue
		}
		ts, err := timetypes.GetTimestamp(v, now)
		if err == nil {
			var secs, nanos int64
			if secs, nanos, err = timetypes.ParseTimestamps(ts, 0); err == nil {
				out[i] = time.Unix(secs, nanos)
				continue
			}
		}
		return time.Time{}, time.Time{}, fmt.Errorf("--%s %q: %w", []string{"since", "until"}[i], v, err)
	}
	return out[0], out[1], nil
}

// tailLines reads --tail: a number of lines, or -1 for "all" (or none).
func tailLines(t string) (int64, error) {
	if t == "" || t == "all" {
		return -1, nil
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("--tail %q: not a number of lines nor \"all\"", t)
	}
	return n, nil
}

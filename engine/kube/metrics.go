package kube

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"

	"github.com/stack-deploy/stack/engine"
)

// metricsPoll is how often a streamed stats reads the metrics API again:
// metrics-server's figures are a window of about 15s, renewed as often.
const metricsPoll = 5 * time.Second

// podMetrics reads the project's pods' figures from metrics.k8s.io: CPU
// in percent of one CPU (the average over the metrics window), memory the
// working set, limits from the pod's spec (else the node's allocatable
// memory); network and block I/O and PIDs are not in the metrics API and
// stay 0. With o.Stream it reads again every metricsPoll and says Gone of
// a pod that is no longer listed.
func (d *Driver) podMetrics(ctx context.Context, project string, o engine.StatsOptions, sample func(engine.Sample)) error {
	ns := d.leaseNamespace(project)
	sel := engine.LabelProject + "=" + project
	seen := map[string]engine.Container{}
	for {
		pods, err := d.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel})
		if err != nil {
			return fmt.Errorf("listing the pods of %s: %w", project, err)
		}
		raw, err := d.client.Discovery().RESTClient().Get().AbsPath("/apis", metricsGroup, "v1beta1", "namespaces", ns, "pods").
			Param("labelSelector", sel).DoRaw(ctx)
		if err != nil {
			return fmt.Errorf("reading the metrics of %s: %w", project, err)
		}
		var list metricsv1beta1.PodMetricsList
		if err := json.Unmarshal(raw, &list); err != nil {
			return fmt.Errorf("reading the metrics of %s: %w", project, err)
		}
		now := map[string]engine.Container{}
		for _, s := range d.samples(ctx, pods.Items, list.Items, o) {
			now[s.Container.ID] = s.Container
			sample(s)
		}
		for id, c := range seen {
			if _, ok := now[id]; !ok {
				sample(engine.Sample{Container: c, Time: time.Now(), Gone: true})
			}
		}
		seen = now
		if !o.Stream {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(metricsPoll):
		}
	}
}

// samples pairs each selected pod with its metrics, sorted by name; a
// running pod without figures yet, or a stopped one with All, is a sample
// of nothing used.
func (d *Driver) samples(ctx context.Context, pods []corev1.Pod, metrics []metricsv1beta1.PodMetrics, o engine.StatsOptions) []engine.Sample {
	byName := map[string]metricsv1beta1.PodMetrics{}
	for _, m := range metrics {
		byName[m.Name] = m
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	nodes := map[string]uint64{}
	var out []engine.Sample
	for _, p := range pods {
		st := podStatus(p)
		if !wantService(st.Service, o.Services) || p.Labels[engine.LabelOneoff] == "true" || st.State != "running" && !o.All {
			continue
		}
		s := engine.Sample{Container: st.Container, Time: time.Now(), Node: p.Spec.NodeName}
		if m, ok := byName[p.Name]; ok && st.State == "running" {
			s.Time = m.Timestamp.Time
			for _, c := range m.Containers {
				s.CPUPercent += float64(c.Usage.Cpu().MilliValue()) / 10
				s.MemoryUsage += uint64(c.Usage.Memory().Value())
			}
		}
		for _, c := range p.Spec.Containers {
			if l, ok := c.Resources.Limits[corev1.ResourceCPU]; ok {
				s.CPULimit += float64(l.MilliValue()) / 1000
			}
			if l, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
				s.MemoryLimit += uint64(l.Value())
				s.MemoryLimited = true
			}
		}
		memory, cpus := d.nodeCapacity(ctx, p.Spec.NodeName, nodes)
		s.CPUs = cpus
		if !s.MemoryLimited {
			s.MemoryLimit = memory
		}
		out = append(out, s)
	}
	return out
}

// nodeCapacity is a node's allocatable memory and CPUs, read once per
// node into cache (memory only; 0 when unreadable).
func (d *Driver) nodeCapacity(ctx context.Context, name string, cache map[string]uint64) (uint64, int) {
	if name == "" {
		return 0, 0
	}
	if _, ok := cache[name]; !ok {
		cache[name], cache[name+"/cpu"] = 0, 0
		if n, err := d.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{}); err == nil {
			cache[name] = uint64(n.Status.Allocatable.Memory().Value())
			cache[name+"/cpu"] = uint64(n.Status.Allocatable.Cpu().Value())
		}
	}
	return cache[name], int(cache[name+"/cpu"])
}

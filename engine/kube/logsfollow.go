package kube

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/stack-deploy/stack/engine"
)

// followNewPods watches the project's pods from resource version rv and
// follows the output of each selected pod once it runs, from its first
// line, numbered after the pods of its service already followed (pods),
// until ctx ends; it returns when every stream it started has ended.
func (d *Driver) followNewPods(ctx context.Context, project, rv string, o engine.LogsOptions, pods []logPod, emit func(engine.LogLine)) {
	ns := d.leaseNamespace(project)
	api := d.client.CoreV1().Pods(ns)
	sel := engine.LabelProject + "=" + project
	w, err := watchtools.NewRetryWatcherWithContext(ctx, rv, watcherFunc(func(ctx context.Context, lo metav1.ListOptions) (watch.Interface, error) {
		lo.LabelSelector = sel
		return api.Watch(ctx, lo)
	}))
	if err != nil {
		return // the pods listed are followed all the same
	}
	defer w.Stop()
	started, number := map[string]bool{}, map[string]int{}
	for _, p := range pods {
		started[string(p.pod.UID)] = true
		number[p.c.Service] = max(number[p.c.Service], p.c.Number)
	}
	all := o
	all.Tail, all.Since = "", ""
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.Done():
			return
		case r := <-w.ResultChan():
			p, ok := r.Object.(*corev1.Pod)
			svc := ""
			if ok {
				svc = p.Labels[engine.LabelService]
			}
			if !ok || r.Type == watch.Deleted || started[string(p.UID)] || svc == "" || p.Labels[engine.LabelOneoff] == "true" ||
				!wantService(svc, o.Services) || p.Status.Phase != corev1.PodRunning {
				continue
			}
			started[string(p.UID)] = true
			number[svc]++
			lp := logPod{pod: *p, c: engine.Container{ID: string(p.UID), Name: p.Name, Service: svc, Number: number[svc], State: "running"}}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = d.podLogs(ctx, lp, all, time.Time{}, emit) // a pod gone at once has nothing to follow
			}()
		}
	}
}

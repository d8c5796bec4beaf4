package kube

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	watchtools "k8s.io/client-go/tools/watch"

	"github.com/stack-deploy/stack/engine"
)

var _ engine.EventWatcher = (*Driver)(nil)

// Events follows the Kubernetes events (core/v1) of the project's
// namespace, as kubectl events -w shows them: Type is the kind of the
// object they are about ("pod", "deployment", "replicaset", ...), Container
// its name, Action the event's reason ("Scheduled", "Pulled", "Started",
// "Killing", "BackOff", "ScalingReplicaSet"), and Attributes its name, message,
// type (Normal or Warning), count and node. Service is the compose service
// whose object it is (its pods, replica sets, claims included), empty for
// the namespace's other objects, which are left out when o names
// services. With o.Since the events the cluster still keeps since then (an
// hour by default) come first, in time order. It ends when ctx is cancelled
// or o.Until passes (a duration is from now); a watch the server closes is resumed where it ended.
func (d *Driver) Events(ctx context.Context, project string, o engine.EventsOptions, event func(engine.Event)) error {
	untilArg := o.Until
	if _, err := time.ParseDuration(untilArg); err == nil {
		untilArg = "" // a duration from now, as stack events --until says
	}
	since, until, err := logWindow(o.Since, untilArg, time.Now())
	if err != nil {
		return err
	}
	if d, err := time.ParseDuration(o.Until); err == nil {
		until = time.Now().Add(d)
	}
	if !until.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, until)
		defer cancel()
	}
	ns := d.leaseNamespace(project)
	api := d.client.CoreV1().Events(ns)
	list, err := api.List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("listing the events of namespace %s: %w", ns, err)
	}
	m := &serviceMatcher{d: d, ns: ns, project: project, pods: map[string]string{}}
	emit := func(ev *corev1.Event) {
		e := m.event(ctx, ev)
		if (e.Service != "" || len(o.Services) == 0) && wantService(e.Service, o.Services) && (until.IsZero() || !e.Time.After(until)) {
			event(e)
		}
	}
	if !since.IsZero() {
		items := list.Items
		sort.SliceStable(items, func(i, j int) bool { return eventTime(&items[i]).Before(eventTime(&items[j])) })
		for i := range items {
			if !eventTime(&items[i]).Before(since) {
				emit(&items[i])
			}
		}
	}
	w, err := watchtools.NewRetryWatcherWithContext(ctx, list.ResourceVersion, watcherFunc(func(ctx context.Context, lo metav1.ListOptions) (watch.Interface, error) {
		return api.Watch(ctx, lo)
	}))
	if err != nil {
		return fmt.Errorf("watching the events of namespace %s: %w", ns, err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			if !until.IsZero() && !time.Now().Before(until) {
				return nil
			}
			return ctx.Err()
		case <-w.Done():
			return fmt.Errorf("watching the events of namespace %s: the watch ended", ns)
		case r := <-w.ResultChan():
			if ev, ok := r.Object.(*corev1.Event); ok && (r.Type == watch.Added || r.Type == watch.Modified) {
				emit(ev)
			}
		}
	}
}

// watcherFunc is a function as client-go's cache.WatcherWithContext.
type watcherFunc func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error)

func (f watcherFunc) WatchWithContext(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
	return f(ctx, o)
}

// eventTime is when an event last happened.
func eventTime(ev *corev1.Event) time.Time {
	switch {
	case !ev.LastTimestamp.IsZero():
		return ev.LastTimestamp.Time
	case !ev.EventTime.IsZero():
		return ev.EventTime.Time
	case ev.Series != nil && !ev.Series.LastObservedTime.IsZero():
		return ev.Series.LastObservedTime.Time
	}
	return ev.FirstTimestamp.Time
}

// serviceMatcher finds the compose service an event's object is of: a
// pod's by its label (while it exists), any other object's by its name,
// which is the service's or begins with it ("web-5888cf5fb6",
// "data-db-0"), the longest service name winning.
type serviceMatcher struct {
	d           *Driver
	ns, project string
	services    []string
	listed      bool
	pods        map[string]string
}

func (m *serviceMatcher) event(ctx context.Context, ev *corev1.Event) engine.Event {
	obj := ev.InvolvedObject
	e := engine.Event{Type: strings.ToLower(obj.Kind), Time: eventTime(ev), Container: obj.Name, ID: string(obj.UID), Action: ev.Reason,
		Attributes: map[string]string{"name": obj.Name, "message": ev.Message, "type": ev.Type}}
	if ev.Count > 1 {
		e.Attributes["count"] = strconv.Itoa(int(ev.Count))
	}
	if node := ev.Source.Host; node != "" {
		e.Attributes["node"] = node
	}
	if obj.FieldPath != "" {
		e.Attributes["field"] = obj.FieldPath
	}
	e.Service = m.service(ctx, obj)
	return e
}

func (m *serviceMatcher) service(ctx context.Context, obj corev1.ObjectReference) string {
	if obj.Kind == "Pod" {
		if svc, ok := m.pods[obj.Name]; ok {
			return svc
		}
		if p, err := m.d.client.CoreV1().Pods(m.ns).Get(ctx, obj.Name, metav1.GetOptions{}); err == nil {
			if p.Labels[engine.LabelProject] == m.project {
				m.pods[obj.Name] = p.Labels[engine.LabelService]
				return m.pods[obj.Name]
			}
			m.pods[obj.Name] = ""
			return ""
		}
	}
	if svc := m.byName(obj.Name); svc != "" || m.listed {
		return svc
	}
	m.list(ctx)
	return m.byName(obj.Name)
}

// byName is the longest service name that is name or prefixes it with a
// "-" (a claim template's data-<service>-N too).
func (m *serviceMatcher) byName(name string) string {
	best := ""
	for _, s := range m.services {
		if len(s) > len(best) && (name == s || strings.HasPrefix(name, s+"-") || strings.Contains(name, "-"+s+"-")) {
			best = s
		}
	}
	return best
}

// list reads the project's services from its Services, once.
func (m *serviceMatcher) list(ctx context.Context) {
	m.listed = true
	svcs, err := m.d.client.CoreV1().Services(m.ns).List(ctx, metav1.ListOptions{LabelSelector: engine.LabelProject + "=" + m.project})
	if err != nil {
		return
	}
	seen := map[string]bool{}
	for _, s := range svcs.Items {
		if name := s.Labels[engine.LabelService]; name != "" && !seen[name] {
			seen[name] = true
			m.services = append(m.services, name)
		}
	}
}

package kube

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/stack-deploy/stack/manifest"
)

// Drift is a field stack applies that another manager now holds: someone
// changed it outside stack (kubectl edit, scale, set image), and server-side
// apply moved its ownership to them. It is read from the managedFields of
// the objects Observe lists anyway, so seeing it costs no API call: a field
// of the object as Map makes it (its field set, through the API's schema)
// that manager stack no longer holds and an Update of another manager
// does. What stack never sets is no drift (kubectl rollout restart's
// annotation); nor is what the cluster's controllers hold
// (kube-controller-manager: a HorizontalPodAutoscaler's replicas).
// `stack up` applies the object, forced, and takes the fields back.

// notDrift are the managers whose fields are not edits: the controllers
// (an autoscaler scales through kube-controller-manager).
var notDrift = map[string]bool{"kube-controller-manager": true}

// edited reports whether an Update of a manager other than stack and the
// controllers holds fields of the object's (its status apart).
func edited(managed []metav1.ManagedFieldsEntry) bool {
	for _, m := range managed {
		if foreign(m) {
			return true
		}
	}
	return false
}

// foreign reports whether m is an Update, outside the status, of a
// manager whose fields can be drift.
func foreign(m metav1.ManagedFieldsEntry) bool {
	return m.Operation == metav1.ManagedFieldsOperationUpdate && m.Subresource != "status" &&
		!strings.HasPrefix(m.Manager, FieldManager) && !notDrift[m.Manager]
}

// desiredFields is the field set of each object Map makes of p, by
// kind/name; nil when p does not map (Check reports why).
func (d *Driver) desiredFields(p *manifest.Project) map[string]*fieldpath.Set {
	objs, _, err := d.mapProject(p)
	if err != nil {
		return nil
	}
	objs.joinApplySet()
	out := map[string]*fieldpath.Set{}
	for _, obj := range objs.List()[1:] {
		kind, name := kindName(obj)
		if set, err := fieldSet(obj); err == nil && kind != "" {
			out[kind+"/"+name] = set
		}
	}
	return out
}

var (
	converterOnce sync.Once
	converter     managedfields.TypeConverter
)

// fieldSet is the set of fields an apply configuration sets, as the API
// server's field manager counts them (list items by their keys).
func fieldSet(obj any) (*fieldpath.Set, error) {
	converterOnce.Do(func() { converter = applyconfigurations.NewTypeConverter(scheme.Scheme) })
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	tv, err := converter.ObjectToTyped(u)
	if err != nil {
		return nil, err
	}
	return tv.ToFieldSet()
}

// drift says which fields of want another manager took from stack, and
// who; empty when none did.
func drift(managed []metav1.ManagedFieldsEntry, want *fieldpath.Set) string {
	if want == nil {
		return ""
	}
	held := &fieldpath.Set{}
	for _, m := range managed {
		if m.Manager == FieldManager && m.Operation == metav1.ManagedFieldsOperationApply {
			if s, err := fields(m); err == nil {
				held = held.Union(s)
			}
		}
	}
	var out []string
	for _, m := range managed {
		if !foreign(m) {
			continue
		}
		s, err := fields(m)
		if err != nil {
			continue
		}
		var paths []string
		s.Intersection(want).Difference(held).Leaves().Iterate(func(p fieldpath.Path) {
			paths = append(paths, strings.TrimPrefix(p.String(), "."))
		})
		if len(paths) == 0 {
			continue
		}
		sort.Strings(paths)
		out = append(out, fmt.Sprintf("%s edited outside stack (manager %s)", strings.Join(paths, ", "), m.Manager))
	}
	return strings.Join(out, "; ")
}

// fields parses a managedFields entry's field set.
func fields(m metav1.ManagedFieldsEntry) (*fieldpath.Set, error) {
	s := &fieldpath.Set{}
	if m.FieldsV1 == nil {
		return s, nil
	}
	return s, s.FromJSON(m.FieldsV1.GetRawReader())
}

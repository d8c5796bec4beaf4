package kube

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/engine/enginetest"
)

// TestAtomicUndo: under --atomic every apply is in the deploy's
// transaction; the undo of web's, which exists, applies web's Deployment
// as observed (its pod template whole) and waits for its previous
// revision; the undo of api's, which is new, deletes what the apply made;
// without --atomic only web's update is in a transaction of its own.
func TestAtomicUndo(t *testing.T) {
	p := enginetest.Load(t, "shop", `
name: shop
services:
  web: {image: busybox:stable, command: [sleep, "3600"]}
  api: {image: busybox:stable, command: [sleep, "3600"]}
`)
	d := &Driver{}
	images, err := d.ConfigHashes(p, engine.Images{})
	if err != nil {
		t.Fatal(err)
	}
	old := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}, Spec: appsv1.DeploymentSpec{
		Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "busybox:old"}}}}}}
	c := &Cluster{Namespace: "shop", Workloads: map[string]Workload{"web": {Kind: Deployment, Name: "web", Hash: "old", Replicas: 1, Ready: 1}},
		Claims: map[string][]string{}, Objects: []Object{{Kind: "Deployment", Name: "web", Service: "web"}},
		raw: map[string]any{"Deployment/web": old}}
	for _, atomic := range []bool{true, false} {
		plan, err := engine.Diff(p, images, observed(p, c), engine.DiffOptions{Atomic: atomic})
		if err != nil {
			t.Fatal(err)
		}
		g, err := d.Operations(plan)
		if err != nil {
			t.Fatal(err)
		}
		applies := map[string]*engine.Op{}
		for _, op := range g.Ops {
			if op.Kind == OpApply {
				applies[op.Action] = op
			}
		}
		web, api := applies["service:web"], applies["service:api"]
		if web == nil || api == nil {
			t.Fatalf("atomic %v: no apply of web or api: %v", atomic, applies)
		}
		if !atomic {
			if web.Txn != "rollout service:web" || api.Txn != "" || api.Undo != nil {
				t.Errorf("without --atomic: web's txn %q, api's %q (undo %v); want web's own and none", web.Txn, api.Txn, api.Undo)
			}
			continue
		}
		if web.Txn != deployTxn || api.Txn != deployTxn {
			t.Errorf("atomic: txns %q and %q, want %q", web.Txn, api.Txn, deployTxn)
		}
		r, _ := web.Undo.Payload.(Restore)
		if len(r.Apply) != 1 || len(r.Wait) != 1 || r.Wait[0].Hash != "old" || web.Undo.Detail != "deployment web back to its previous revision" {
			t.Fatalf("web's undo: %+v (%q), want its Deployment applied as observed and waited at hash old", r, web.Undo.Detail)
		}
		dep := r.Apply[0].(*appsv1ac.DeploymentApplyConfiguration)
		if img := dep.Spec.Template.Spec.Containers[0].Image; img == nil || *img != "busybox:old" {
			t.Errorf("web's undo applies image %v, want busybox:old", img)
		}
		r, _ = api.Undo.Payload.(Restore)
		got := map[string]bool{}
		for _, o := range r.Delete {
			got[o.Kind+"/"+o.Name] = true
		}
		if !got["Deployment/api"] || !got["Service/api"] || len(r.Apply) != 0 {
			t.Errorf("api's undo: %+v, want its new Deployment and Service deleted", r)
		}
	}
}

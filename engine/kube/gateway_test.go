package kube

import (
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/engine/enginetest"
	"github.com/stack-deploy/stack/manifest"
)

// gatewayCompose: web routed on a port it does not declare, api on the
// one it exposes (with a forward auth to auth's port), quick stopping
// faster than a drain allows, slow with a short but sufficient grace.
const gatewayCompose = `
name: shop
x-stack:
  gateway:
    ports: ["30080:80"]
services:
  web:
    image: web
    x-stack: {route: {path: /, port: 8080}}
  api:
    image: api
    expose: ["9000"]
    x-stack:
      route: {path: /api, auth: {forward: {service: auth, port: 9091, path: /check}}}
  auth:
    image: auth
  quick:
    image: quick
    stop_grace_period: 1s
    x-stack: {route: {path: /quick, port: 80}}
  slow:
    image: slow
    stop_grace_period: 3s
    x-stack: {route: {path: /slow, port: 80}}
`

// TestGatewayMapping: the gateway is a ConfigMap of package gateway's
// Caddy config dialling each service's Service, a Deployment rolled by
// its hash and a NodePort Service; routed services serve their route's
// port on their Service and drain before they stop.
func TestGatewayMapping(t *testing.T) {
	objs, warnings, err := Map(load(t, gatewayCompose), Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := objs.Gateway
	if g == nil || g.ConfigMap == nil || g.Service == nil || g.Deployment == nil {
		t.Fatalf("gateway = %+v, want a ConfigMap, a Service and a Deployment", g)
	}
	cfg := g.ConfigMap.Data[gatewayConfigKey]
	for _, want := range []string{`"dial": "web:8080"`, `"dial": "api:9000"`, `"dial": "auth:9091"`, `":80"`} {
		if !strings.Contains(cfg, want) {
			t.Errorf("the gateway's config lacks %s", want)
		}
	}
	if p := g.Service.Spec.Ports; *g.Service.Spec.Type != corev1.ServiceTypeNodePort || len(p) != 1 || *p[0].NodePort != 30080 || p[0].TargetPort.IntValue() != 80 {
		t.Errorf("gateway Service: %s %+v, want NodePort 30080 -> 80", *g.Service.Spec.Type, p)
	}
	tmpl := g.Deployment.Spec.Template
	if tmpl.Annotations[engine.LabelConfigHash] != g.Hash || tmpl.Annotations[AnnotationGatewayRoutes] != g.RoutesHash || tmpl.Annotations[AnnotationGatewayConfig] == "" {
		t.Errorf("gateway pod annotations %v, want its hash, routes hash and config hash", tmpl.Annotations)
	}
	if s := g.Deployment.Spec.Strategy.RollingUpdate; s.MaxSurge.IntValue() != 1 || s.MaxUnavailable.IntValue() != 0 {
		t.Errorf("gateway rolls with %+v, want a new pod before the old one goes", s)
	}
	if l := objs.List(); l[len(l)-1] != any(g.Deployment) {
		t.Errorf("the gateway's Deployment is not applied last, after the services")
	}
	want := map[string]struct {
		port  int32
		sleep int64
	}{"web": {8080, 5}, "api": {9000, 5}, "auth": {9091, 5}, "quick": {80, 0}, "slow": {80, 2}}
	for _, s := range objs.Services {
		w := want[s.Name]
		ports := s.Service.Spec.Ports
		if s.Service.Spec.ClusterIP != nil || len(ports) != 1 || *ports[0].Port != w.port {
			t.Errorf("%s: Service ports %+v, want ClusterIP over %d", s.Name, ports, w.port)
		}
		c := s.Deployment.Spec.Template.Spec.Containers[0]
		var sleep int64
		if c.Lifecycle != nil {
			sleep = *c.Lifecycle.PreStop.Sleep.Seconds
		}
		if sleep != w.sleep {
			t.Errorf("%s: preStop sleep %d, want %d", s.Name, sleep, w.sleep)
		}
	}
	if w := strings.Join(warnings["service:quick"], "\n"); !strings.Contains(w, "stop_grace_period: too short for the pod to drain") {
		t.Errorf("quick's warnings %q lack the drain", w)
	}
	for r, ws := range warnings {
		for _, w := range ws {
			if strings.Contains(w, "x-stack.route") {
				t.Errorf("%s: %s: a route is served now", r, w)
			}
		}
	}
}

// TestGatewayRefusals: the gateway's published port follows a service's
// rules, and its name is its own.
func TestGatewayRefusals(t *testing.T) {
	tests := []struct {
		name, compose, field string
		err                  error
	}{
		{"outside the NodePort range", "x-stack: {gateway: {ports: [\"8000:80\"]}}\nservices: {web: {image: w, x-stack: {route: {path: /, port: 80}}}}",
			"x-stack.gateway.ports[0]", ErrPublishedPort},
		{"a NodePort a service publishes too", "x-stack: {gateway: {ports: [\"30080:80\"]}}\nservices: {web: {image: w, ports: [\"30080:80\"], x-stack: {route: {path: /}}}}",
			"x-stack.gateway.ports[0]", ErrPublishedPort},
		{"a service named like the gateway", "x-stack: {gateway: {ports: [\"30080:80\"]}}\nservices: {stack-gateway: {image: w}}", "", ErrInvalidName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Map(load(t, tt.compose), Options{})
			var me *manifest.Error
			if !errors.Is(err, tt.err) || !errors.As(err, &me) {
				t.Fatalf("Map: %v, want %v", err, tt.err)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("error %q does not name %s", err, tt.field)
			}
		})
	}
	objs, _, err := Map(load(t, "x-stack: {gateway: {ports: [\"8000:80\"]}}\nservices: {web: {image: w, x-stack: {route: {path: /, port: 80}}}}"), Options{Expose: manifest.ExposeLoadBalancer})
	if err != nil {
		t.Fatal(err)
	}
	if s := objs.Gateway.Service.Spec; *s.Type != corev1.ServiceTypeLoadBalancer || *s.Ports[0].Port != 8000 {
		t.Errorf("with expose: loadbalancer the gateway's Service is %s on %d, want a LoadBalancer on 8000", *s.Type, *s.Ports[0].Port)
	}
}

// TestGatewayPlan: the gateway's action as the cluster holds it, and the
// operations that carry it out.
func TestGatewayPlan(t *testing.T) {
	p, images, objs := mapped(t, gatewayCompose)
	d := &Driver{}
	g := objs.Gateway
	cluster := func(gw *Workload) *Cluster {
		c := &Cluster{Namespace: "shop", Workloads: map[string]Workload{}, Claims: map[string][]string{}, Gateway: gw}
		for _, s := range objs.Services {
			c.Workloads[s.Name] = Workload{Kind: Deployment, Name: s.Name, Hash: s.Hash.Sum, Replicas: 1, Ready: 1}
			c.Objects = append(c.Objects, Object{Kind: "Deployment", Name: s.Name, Service: s.Name}, Object{Kind: "Service", Name: s.Name, Service: s.Name})
		}
		if gw != nil {
			c.Objects = append(c.Objects, Object{Kind: "ConfigMap", Name: GatewayName, Gateway: true},
				Object{Kind: "Deployment", Name: GatewayName, Gateway: true}, Object{Kind: "Service", Name: GatewayName, Gateway: true})
		}
		return c
	}
	current := &Workload{Kind: Deployment, Name: GatewayName, Hash: g.Hash, Routes: g.RoutesHash, Replicas: 1, Ready: 1}
	tests := []struct {
		name string
		gw   *Workload
		kind engine.Kind
		ops  string
	}{
		{"none yet", nil, engine.Create, "apply deployment:stack-gateway, wait deployment:stack-gateway"},
		{"as desired", current, engine.Unchanged, ""},
		{"routes changed", &Workload{Kind: Deployment, Name: GatewayName, Hash: g.Hash, Routes: "old", Replicas: 1}, engine.Reload, "apply deployment:stack-gateway, wait deployment:stack-gateway"},
		{"image changed", &Workload{Kind: Deployment, Name: GatewayName, Hash: "old", Routes: g.RoutesHash, Replicas: 1}, engine.Recreate, "apply deployment:stack-gateway, wait deployment:stack-gateway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := engine.Diff(p, images, observed(p, cluster(tt.gw)), engine.DiffOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if a := plan.Action(engine.GatewayResource); a == nil || a.Kind != tt.kind {
				t.Fatalf("gateway action %+v, want %s", a, tt.kind)
			}
			if got := opsOf(t, d, plan, "gateway"); got != tt.ops {
				t.Errorf("gateway operations %q, want %q", got, tt.ops)
			}
		})
	}
	// Gone from the manifest, or down: its three objects deleted by its
	// action, none pruned besides.
	gone := enginetest.Load(t, "shop", "services: {web: {image: web}}")
	goneImages, err := d.ConfigHashes(gone, engine.Images{})
	if err != nil {
		t.Fatal(err)
	}
	removed, err := engine.Diff(gone, goneImages, observed(gone, cluster(current)), engine.DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for name, plan := range map[string]*engine.Plan{"gone from the manifest": removed, "down": engine.Down(p, observed(p, cluster(current)), engine.DownOptions{})} {
		if a := plan.Action(engine.GatewayResource); a == nil || a.Kind != engine.Remove {
			t.Fatalf("%s: gateway action %+v, want remove", name, a)
		}
		if got := opsOf(t, d, plan, "gateway"); got != "delete gateway, wait gateway" {
			t.Errorf("%s: gateway operations %q", name, got)
		}
		g, err := d.Operations(plan)
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range g.Ops {
			if p, ok := op.Payload.(Delete); ok && op.Action == engine.GatewayResource && len(p.Objects) != 3 {
				t.Errorf("%s: deletes %+v, want the gateway's three objects", name, p.Objects)
			}
			if op.Action != engine.GatewayResource && strings.Contains(op.Target, GatewayName) {
				t.Errorf("%s: %s %s of %s: the gateway's objects are its action's", name, op.Kind, op.Target, op.Action)
			}
		}
	}
}

// mapped loads project shop from compose and maps it: the project, its
// images with the hashes the driver gives them, and its objects.
func mapped(t *testing.T, compose string) (*manifest.Project, engine.Images, *Objects) {
	t.Helper()
	p := enginetest.Load(t, "shop", compose)
	d := &Driver{}
	images, err := d.ConfigHashes(p, engine.Images{})
	if err != nil {
		t.Fatal(err)
	}
	objs, _, err := d.mapProject(p)
	if err != nil {
		t.Fatal(err)
	}
	return p, images, objs
}

// opsOf lists the kinds and targets of the operations of resource's action.
func opsOf(t *testing.T, d *Driver, plan *engine.Plan, resource string) string {
	t.Helper()
	g, err := d.Operations(plan)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, op := range g.Ops {
		if op.Action == resource {
			out = append(out, string(op.Kind)+" "+op.Target)
		}
	}
	return strings.Join(out, ", ")
}

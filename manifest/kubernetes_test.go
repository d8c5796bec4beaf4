package manifest

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestKubernetesExtension: x-stack.kubernetes decodes in its every shape
// (liveness true, or a probe of its own; volume settings), and what cannot
// be right is refused naming file, line, service and field.
func TestKubernetesExtension(t *testing.T) {
	tests := []struct {
		name    string
		compose string
		check   func(t *testing.T, p *Project)
		field   string // of the expected error; "" for none
		line    int
		text    string
	}{
		{
			name: "liveness true and volume settings",
			compose: `
services:
  db:
    image: postgres:17
    healthcheck: {test: ["CMD", "pg_isready"]}
    volumes: [data:/var/lib/postgresql/data]
    x-stack:
      kubernetes: {liveness: true}
volumes:
  data:
x-stack:
  kubernetes:
    volumes:
      data: {size: 10Gi, class: fast, access: ReadWriteMany}
`,
			check: func(t *testing.T, p *Project) {
				if l := p.KubernetesFor("db").Liveness; l == nil || !l.Healthcheck || l.Probe != nil {
					t.Errorf("liveness %+v, want the healthcheck", l)
				}
				want := KubernetesVolume{Size: "10Gi", Class: "fast", Access: AccessReadWriteMany}
				if got := p.KubernetesVolumeFor("data"); got != want {
					t.Errorf("volume %+v, want %+v", got, want)
				}
			},
		},
		{
			name: "a probe of its own, the test a shell command",
			compose: `
services:
  web:
    image: nginx
    x-stack:
      kubernetes:
        liveness: {test: "curl -f localhost", interval: 10s, retries: 3}
`,
			check: func(t *testing.T, p *Project) {
				got := p.KubernetesFor("web").Liveness.Probe
				want := &Probe{Test: ProbeTest{"CMD-SHELL", "curl -f localhost"}, Interval: "10s", Retries: 3}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("probe %+v, want %+v", got, want)
				}
				if l := p.KubernetesFor("nothing"); l.Liveness != nil {
					t.Errorf("a service without the block: %+v", l)
				}
			},
		},
		{
			name: "liveness true without a healthcheck",
			compose: `
services:
  web:
    image: nginx
    x-stack:
      kubernetes:
        liveness: true
`,
			field: "x-stack.kubernetes.liveness", line: 7, text: "no healthcheck",
		},
		{
			name: "a probe's duration that does not parse",
			compose: `
services:
  web:
    image: nginx
    x-stack:
      kubernetes:
        liveness:
          test: ["CMD", "true"]
          interval: often
`,
			field: "x-stack.kubernetes.liveness.interval", line: 9, text: `"often" is not a duration`,
		},
		{
			name: "settings for a volume only a disabled service mounts",
			compose: `
services:
  web: {image: nginx}
  backup: {image: restic, profiles: [ops], volumes: ["data:/data"]}
volumes:
  data:
x-stack:
  kubernetes:
    volumes:
      data: {size: 1Gi}
`,
			check: func(t *testing.T, p *Project) {
				if got := p.KubernetesVolumeFor("data").Size; got != "1Gi" {
					t.Errorf("size %q, want 1Gi", got)
				}
			},
		},
		{
			name: "settings for a volume the project lacks",
			compose: `
services:
  web: {image: nginx}
x-stack:
  kubernetes:
    volumes:
      data: {size: 1Gi}
`,
			field: "x-stack.kubernetes.volumes.data", line: 7, text: `"data" is not a volume`,
		},
		{
			name: "an unknown access mode",
			compose: `
services:
  web: {image: nginx, volumes: [data:/data]}
volumes:
  data:
x-stack:
  kubernetes:
    volumes:
      data: {access: shared}
`,
			field: "x-stack.kubernetes.volumes.data.access", line: 9, text: `unknown access mode "shared"`,
		},
		{
			name: "a misspelt key",
			compose: `
services:
  web:
    image: nginx
    x-stack:
      kubernetes: {liveliness: true}
`,
			field: "x-stack.kubernetes.liveliness", line: 6, text: `unknown key "liveliness"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeProject(t, map[string]string{"compose.yaml": tt.compose})
			p, err := Load(t.Context(), Options{Files: []string{filepath.Join(dir, "compose.yaml")}, Env: []string{}})
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, p)
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v, want an *Error", err)
			}
			if e.Field != tt.field || e.Line != tt.line || !strings.Contains(e.Error(), tt.text) || filepath.Base(e.File) != "compose.yaml" {
				t.Errorf("error %q (field %q, line %d), want field %q, line %d, saying %q", e, e.Field, e.Line, tt.field, tt.line, tt.text)
			}
		})
	}
}

// TestKubernetesEnvironment: an environment's Kubernetes settings are
// checked before anything reaches a cluster, and are refused on an
// environment that another orchestrator deploys.
func TestKubernetesEnvironment(t *testing.T) {
	tests := []struct {
		env, text string
	}{
		{"good", ""},
		{"badns", `namespace "Shop_Prod" is not a DNS label`},
		{"badexpose", `unknown expose "ingress"`},
		{"swarmns", "namespace is a Kubernetes setting"},
		{"kubehost", "host names a Docker engine"},
	}
	const compose = `
name: shop
services:
  web: {image: nginx}
x-stack:
  environments:
    good: {orchestrator: kubernetes, context: prod, namespace: shop, expose: loadbalancer}
    badns: {orchestrator: kubernetes, namespace: Shop_Prod}
    badexpose: {orchestrator: kubernetes, expose: ingress}
    swarmns: {orchestrator: swarm, namespace: shop}
    kubehost: {orchestrator: kubernetes, host: "tcp://h:2376"}
`
	dir := writeProject(t, map[string]string{"compose.yaml": compose})
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			p, err := Load(t.Context(), Options{Files: []string{filepath.Join(dir, "compose.yaml")}, Env: []string{}, Environment: tt.env})
			if tt.text == "" {
				if err != nil {
					t.Fatal(err)
				}
				if p.Env.Namespace != "shop" || p.Env.Context != "prod" || p.Env.Expose != ExposeLoadBalancer || p.Name != "shop-good" {
					t.Errorf("environment %+v, project %q", p.Env.Environment, p.Name)
				}
				return
			}
			if !errors.Is(err, ErrInvalidEnvironment) || !strings.Contains(err.Error(), tt.text) || !strings.Contains(err.Error(), "x-stack.environments."+tt.env) {
				t.Errorf("error %v, want ErrInvalidEnvironment at x-stack.environments.%s saying %q", err, tt.env, tt.text)
			}
		})
	}
}

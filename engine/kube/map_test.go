package kube

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/stack-deploy/stack/manifest"
)

// load loads an inline compose file.
func load(t *testing.T, compose string) *manifest.Project {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(file, []byte(compose), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := manifest.Load(t.Context(), manifest.Options{Files: []string{file}, Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// mapOne maps an inline compose file and returns its service "s".
func mapOne(t *testing.T, compose string, opts Options) Service {
	t.Helper()
	objs, _, err := Map(load(t, compose), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range objs.Services {
		if s.Name == "s" {
			return s
		}
	}
	t.Fatal("no service s")
	return Service{}
}

// TestWorkloadKind: which workload a service becomes, and how its named
// volumes are claimed (doc.go's rule).
func TestWorkloadKind(t *testing.T) {
	tests := []struct {
		name     string
		compose  string
		kind     Kind
		claims   int // shared claims of the project
		template bool
		strategy string // a Deployment's strategy type, "" for the default
	}{
		{"no volume", `services: {s: {image: a}}`, Deployment, 0, false, ""},
		{"a ReadWriteOnce volume, one replica: per-replica claim, so scaling keeps it",
			"services: {s: {image: a, volumes: [data:/d]}}\nvolumes: {data: {}}", StatefulSet, 0, true, ""},
		{"a ReadWriteOnce volume, three replicas: one claim each",
			"services: {s: {image: a, volumes: [data:/d], deploy: {replicas: 3}}}\nvolumes: {data: {}}", StatefulSet, 0, true, ""},
		{"a ReadWriteMany volume: one claim shared, as on one engine",
			"services: {s: {image: a, volumes: [data:/d], deploy: {replicas: 3}}}\nvolumes: {data: {}}\nx-stack: {kubernetes: {volumes: {data: {access: ReadWriteMany}}}}", Deployment, 1, false, ""},
		{"an external volume: the claim that exists, one pod at a time",
			"services: {s: {image: a, volumes: [data:/d]}}\nvolumes: {data: {external: true, name: old}}", Deployment, 0, false, "Recreate"},
		{"an anonymous volume: an emptyDir",
			`services: {s: {image: a, volumes: [/d]}}`, Deployment, 0, false, ""},
		{"waited for with service_completed_successfully: a Job",
			`services: {s: {image: a}, b: {image: b, depends_on: {s: {condition: service_completed_successfully}}}}`, Job, 0, false, ""},
		{"deploy.mode global: a DaemonSet", `services: {s: {image: a, deploy: {mode: global}}}`, DaemonSet, 0, false, ""},
		{"deploy.mode global with a ReadWriteMany volume: one claim shared", "services: {s: {image: a, volumes: [data:/d], deploy: {mode: global}}}\nvolumes: {data: {}}\nx-stack: {kubernetes: {volumes: {data: {access: ReadWriteMany}}}}", DaemonSet, 1, false, ""},
		{"deploy.mode replicated-job: a Job", `services: {s: {image: a, deploy: {mode: replicated-job}}}`, Job, 0, false, ""},
		{"a Job's volume is one claim",
			"services: {s: {image: a, volumes: [data:/d]}, b: {image: b, depends_on: {s: {condition: service_completed_successfully}}}}\nvolumes: {data: {}}", Job, 1, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, _, err := Map(load(t, tt.compose), Options{})
			if err != nil {
				t.Fatal(err)
			}
			var s Service
			for _, x := range objs.Services {
				if x.Name == "s" {
					s = x
				}
			}
			if s.Kind != tt.kind {
				t.Fatalf("kind %s, want %s", s.Kind, tt.kind)
			}
			if len(objs.Claims) != tt.claims {
				t.Errorf("%d shared claims, want %d", len(objs.Claims), tt.claims)
			}
			if tt.kind == StatefulSet && (len(s.StatefulSet.Spec.VolumeClaimTemplates) > 0) != tt.template {
				t.Errorf("claim templates %v, want %v", s.StatefulSet.Spec.VolumeClaimTemplates, tt.template)
			}
			if tt.kind == Deployment {
				got := ""
				if st := s.Deployment.Spec.Strategy; st != nil {
					got = string(*st.Type)
				}
				if got != tt.strategy {
					t.Errorf("strategy %q, want %q", got, tt.strategy)
				}
			}
		})
	}
}

// TestServices: the Service named like the service, and the one of its
// published ports.
func TestServices(t *testing.T) {
	tests := []struct {
		name      string
		compose   string
		opts      Options
		headless  bool
		ports     int
		published corev1.ServiceType // "" for none
		nodePort  int32
	}{
		{"no port: headless, the name resolves to the pods whatever they listen on", `services: {s: {image: a}}`, Options{}, true, 0, "", 0},
		{"expose: ClusterIP", `services: {s: {image: a, expose: ["80", "90-91/udp"]}}`, Options{}, false, 3, "", 0},
		{"endpoint_mode dnsrr: headless with its ports", `services: {s: {image: a, expose: ["80"], deploy: {endpoint_mode: dnsrr}}}`, Options{}, true, 1, "", 0},
		{"published in the NodePort range: that NodePort", `services: {s: {image: a, ports: ["30080:80"]}}`, Options{}, false, 1, corev1.ServiceTypeNodePort, 30080},
		{"published anywhere, expose: loadbalancer", `services: {s: {image: a, ports: ["80:8080"]}}`, Options{Expose: manifest.ExposeLoadBalancer}, false, 1, corev1.ServiceTypeLoadBalancer, 0},
		{"a target port only: a NodePort the cluster picks", `services: {s: {image: a, ports: ["8080"]}}`, Options{}, false, 1, corev1.ServiceTypeNodePort, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mapOne(t, tt.compose, tt.opts)
			spec := s.Service.Spec
			if *s.Service.Name != "s" {
				t.Errorf("Service %q, want s", *s.Service.Name)
			}
			if headless := spec.ClusterIP != nil && *spec.ClusterIP == corev1.ClusterIPNone; headless != tt.headless {
				t.Errorf("headless %v, want %v", headless, tt.headless)
			}
			if len(spec.Ports) != tt.ports {
				t.Errorf("%d ports, want %d", len(spec.Ports), tt.ports)
			}
			switch {
			case tt.published == "" && s.Published != nil:
				t.Errorf("a published Service, want none")
			case tt.published != "" && (s.Published == nil || *s.Published.Spec.Type != tt.published):
				t.Fatalf("published Service %v, want %s", s.Published, tt.published)
			case tt.published == corev1.ServiceTypeNodePort && tt.nodePort == 0 && s.Published.Spec.Ports[0].NodePort != nil:
				t.Errorf("nodePort %d, want the cluster's pick", *s.Published.Spec.Ports[0].NodePort)
			case tt.nodePort != 0 && *s.Published.Spec.Ports[0].NodePort != tt.nodePort:
				t.Errorf("nodePort %d, want %d", *s.Published.Spec.Ports[0].NodePort, tt.nodePort)
			}
		})
	}
}

// TestUpdateStrategy: update_config's order and parallelism become the
// rolling update's maxSurge and maxUnavailable.
func TestUpdateStrategy(t *testing.T) {
	tests := []struct {
		update            string
		surge, unavailble string
	}{
		{`{}`, "0", "1"},
		{`{parallelism: 2}`, "0", "2"},
		{`{order: start-first}`, "1", "0"},
		{`{order: start-first, parallelism: 3}`, "3", "0"},
		{`{parallelism: 0}`, "0", "100%"},
	}
	for _, tt := range tests {
		t.Run(tt.update, func(t *testing.T) {
			s := mapOne(t, `services: {s: {image: a, deploy: {update_config: `+tt.update+`}}}`, Options{})
			ru := s.Deployment.Spec.Strategy.RollingUpdate
			if got := ru.MaxSurge.String(); got != tt.surge {
				t.Errorf("maxSurge %s, want %s", got, tt.surge)
			}
			if got := ru.MaxUnavailable.String(); got != tt.unavailble {
				t.Errorf("maxUnavailable %s, want %s", got, tt.unavailble)
			}
		})
	}
}

// TestJobBackoff: how often a Job's pod is retried, from restart policies.
func TestJobBackoff(t *testing.T) {
	tests := []struct {
		restart string
		want    int32
	}{
		{``, 0},
		{`restart: "no"`, 0},
		{`restart: on-failure:4`, 4},
		{`restart: always`, 6},
		{`deploy: {restart_policy: {condition: on-failure, max_attempts: 2}}`, 2},
		{`deploy: {restart_policy: {condition: none}}`, 0},
		{`deploy: {restart_policy: {condition: any}}`, 6},
	}
	for _, tt := range tests {
		t.Run(tt.restart, func(t *testing.T) {
			compose := "services:\n  b: {image: b, depends_on: {s: {condition: service_completed_successfully}}}\n  s:\n    image: a\n"
			if tt.restart != "" {
				compose += "    " + tt.restart + "\n"
			}
			s := mapOne(t, compose, Options{})
			if got := *s.Job.Spec.BackoffLimit; got != tt.want {
				t.Errorf("backoffLimit %d, want %d", got, tt.want)
			}
			if rp := *s.Job.Spec.Template.Spec.RestartPolicy; rp != corev1.RestartPolicyNever {
				t.Errorf("restartPolicy %s, want Never", rp)
			}
		})
	}
}

// TestProbes: the healthcheck is the readiness probe; start_period a
// startup probe long enough for it and the retries; liveness only when
// asked.
func TestProbes(t *testing.T) {
	const hc = `healthcheck: {test: ["CMD", "ok"], interval: 2s, timeout: 1s, retries: 4, start_period: 10s}`
	tests := []struct {
		name                     string
		service                  string
		ready, startup, liveness bool
		startupFailures          int32
	}{
		{"no healthcheck", `{image: a}`, false, false, false, 0},
		{"healthcheck", `{image: a, ` + hc + `}`, true, true, false, 9},
		{"disabled", `{image: a, healthcheck: {disable: true}}`, false, false, false, 0},
		{"liveness: true", `{image: a, ` + hc + `, x-stack: {kubernetes: {liveness: true}}}`, true, true, true, 9},
		{"a liveness probe of its own", `{image: a, x-stack: {kubernetes: {liveness: {test: "true"}}}}`, false, false, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mapOne(t, `services: {s: `+tt.service+`}`, Options{}).Deployment.Spec.Template.Spec.Containers[0]
			if (c.ReadinessProbe != nil) != tt.ready || (c.StartupProbe != nil) != tt.startup || (c.LivenessProbe != nil) != tt.liveness {
				t.Fatalf("readiness %v, startup %v, liveness %v; want %v, %v, %v", c.ReadinessProbe != nil, c.StartupProbe != nil, c.LivenessProbe != nil, tt.ready, tt.startup, tt.liveness)
			}
			if tt.ready && (*c.ReadinessProbe.PeriodSeconds != 2 || *c.ReadinessProbe.TimeoutSeconds != 1 || *c.ReadinessProbe.FailureThreshold != 4) {
				t.Errorf("readiness period %d, timeout %d, failures %d; want 2, 1, 4", *c.ReadinessProbe.PeriodSeconds, *c.ReadinessProbe.TimeoutSeconds, *c.ReadinessProbe.FailureThreshold)
			}
			if tt.startup && *c.StartupProbe.FailureThreshold != tt.startupFailures {
				t.Errorf("startup failures %d, want %d (10s / 2s + 4 retries)", *c.StartupProbe.FailureThreshold, tt.startupFailures)
			}
		})
	}
}

// TestRefusals: each field Kubernetes cannot take is a *manifest.Error with
// its sentinel, naming the service and the field.
func TestRefusals(t *testing.T) {
	tests := []struct {
		name, compose string
		opts          Options
		err           error
		service       string
		field         string
	}{
		{"bind mount", `services: {s: {image: a, volumes: ["./x:/x"]}}`, Options{}, ErrBindMount, "s", "volumes[0]"},
		{"published port outside the range", `services: {s: {image: a, ports: ["8080:80"]}}`, Options{}, ErrPublishedPort, "s", "ports[0]"},
		{"published port below the range", `services: {s: {image: a, ports: ["29999:80"]}}`, Options{}, ErrPublishedPort, "s", "ports[0]"},
		{"a NodePort published twice", `services: {a: {image: a, ports: ["30080:80"]}, s: {image: a, ports: ["30080:8080"]}}`, Options{}, ErrPublishedPort, "s", "ports[0]"},
		{"name with an underscore", `services: {my_db: {image: a}}`, Options{}, ErrInvalidName, "my_db", ""},
		{"name starting with a digit", `services: {1db: {image: a}}`, Options{}, ErrInvalidName, "1db", ""},
		{"a ReadWriteOnce volume of two services", "services: {a: {image: a, volumes: [data:/d]}, s: {image: a, volumes: [data:/e]}}\nvolumes: {data: {}}", Options{}, ErrSharedVolume, "s", "volumes"},
		{"a ReadWriteOnce volume on every node", "services: {s: {image: a, volumes: [data:/d], deploy: {mode: global}}}\nvolumes: {data: {}}", Options{}, ErrSharedVolume, "s", "volumes"},
		{"a size that is no quantity", "services: {s: {image: a, volumes: [data:/d]}}\nvolumes: {data: {}}\nx-stack: {kubernetes: {volumes: {data: {size: big}}}}", Options{}, ErrInvalid, "", "x-stack.kubernetes.volumes.data.size"},
		{"a namespace that is no label", `services: {s: {image: a}}`, Options{Namespace: "Shop"}, ErrInvalidName, "", "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Map(load(t, tt.compose), tt.opts)
			var e *manifest.Error
			if !errors.Is(err, tt.err) || !errors.As(err, &e) {
				t.Fatalf("error %v, want a *manifest.Error of %v", err, tt.err)
			}
			if e.Service != tt.service || e.Field != tt.field || !strings.HasSuffix(e.File, "compose.yaml") || e.Fix == "" {
				t.Errorf("error at service %q field %q of %s (fix %q), want service %q field %q", e.Service, e.Field, e.File, e.Fix, tt.service, tt.field)
			}
		})
	}
}

// TestSummary: the line `stack plan` can show beside each service.
func TestSummary(t *testing.T) {
	objs, _, err := Map(load(t, `
services:
  db: {image: postgres, volumes: ["pgdata:/data"], deploy: {replicas: 2}}
  api: {image: api, ports: ["30080:8080"], expose: ["9090"]}
  migrate: {image: m}
  web: {image: web, depends_on: {migrate: {condition: service_completed_successfully}}}
volumes:
  pgdata:
x-stack: {kubernetes: {volumes: {pgdata: {size: 20Gi}}}}
`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"db":      "StatefulSet, 2 replicas, a claim of pgdata (20Gi) each; Service db, headless",
		"api":     "Deployment, 1 replica; Service api, ClusterIP 8080/tcp,9090/tcp; Service api-published, NodePort 30080/tcp",
		"migrate": "Job, 1 to complete; Service migrate, headless",
	}
	for _, s := range objs.Services {
		if w, ok := want[s.Name]; ok && s.Summary() != w {
			t.Errorf("%s: %q, want %q", s.Name, s.Summary(), w)
		}
	}
}

// TestEscape: Kubernetes expands $(VAR) in env, command and args; what
// compose has interpolated must reach the process as it is.
func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain":          "plain",
		"$HOME":          "$HOME",
		"$(date)":        "$$(date)",
		"a $$ b":         "a $$$$ b",
		"$(x) and $HOME": "$$(x) and $$HOME",
	} {
		if got := escape(in); got != want {
			t.Errorf("escape(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestObjectName: compose keys become object names when they can.
func TestObjectName(t *testing.T) {
	for in, want := range map[string]string{
		"data":        "data",
		"db_password": "db-password",
		"My.Config":   "my.config",
		"__":          "",
	} {
		got, ok := objectName(in)
		if got != want || ok != (want != "") {
			t.Errorf("objectName(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

package engine_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/engine"
)

const lifecycleYAML = `
services:
  web:
    image: web
    depends_on: [api]
  api:
    image: api
    depends_on:
      db: {condition: service_healthy}
  db:
    image: db
    healthcheck: {test: ["CMD", "true"]}
  tool:
    image: tool
`

// summary renders a plan as "resource kind ready waits-for" lines.
func summary(p *engine.Plan) string {
	var b strings.Builder
	for _, a := range p.Actions {
		fmt.Fprintf(&b, "%s %s %s [%s]\n", a.Resource, a.Kind, a.Ready, strings.Join(a.WaitsFor, " "))
	}
	return b.String()
}

func TestLifecyclePlans(t *testing.T) {
	p := load(t, lifecycleYAML)
	running := deployed(t, lifecycleYAML, nil)
	stopped := deployed(t, lifecycleYAML, nil)
	for i := range stopped.Services {
		if s := &stopped.Services[i]; s.Name != "tool" {
			s.Running, s.Stopped = 0, "exited with code 0"
		}
	}
	tests := []struct {
		name    string
		plan    func() (*engine.Plan, error)
		want    string
		wantErr string
	}{
		{
			name: "stop: dependants stop first; every running service",
			plan: func() (*engine.Plan, error) { return engine.StopServices(p, nil, running, nil) },
			want: "service:db stop  [service:api]\nservice:tool stop  []\nservice:api stop  [service:web]\nservice:web stop  []\n",
		},
		{
			name: "stop one service: only it",
			plan: func() (*engine.Plan, error) { return engine.StopServices(p, nil, running, []string{"api"}) },
			want: "service:api stop  []\n",
		},
		{
			name: "start: only stopped containers, dependencies first, waited for as up does",
			plan: func() (*engine.Plan, error) { return engine.StartServices(p, nil, stopped, nil) },
			want: "service:db start healthy []\nservice:api start started [service:db]\nservice:web start started [service:api]\n",
		},
		{
			name: "start with nothing stopped: an empty plan",
			plan: func() (*engine.Plan, error) { return engine.StartServices(p, nil, running, nil) },
			want: "",
		},
		{
			name: "restart: every container, dependencies first",
			plan: func() (*engine.Plan, error) { return engine.RestartServices(p, nil, running, []string{"web", "api"}) },
			want: "service:api restart started []\nservice:web restart started [service:api]\n",
		},
		{
			name:    "start a named service that has no container: an error, as in Compose",
			plan:    func() (*engine.Plan, error) { return engine.StartServices(p, nil, &engine.Observed{}, []string{"web"}) },
			wantErr: `service "web" has no container to start`,
		},
		{
			name:    "unknown service",
			plan:    func() (*engine.Plan, error) { return engine.StopServices(p, nil, running, []string{"nope"}) },
			wantErr: `service "nope": not in the project`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := tt.plan()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(plan); got != tt.want {
				t.Errorf("plan:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

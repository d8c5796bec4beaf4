package engine_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/engine"
)

func TestDown(t *testing.T) {
	withOld := seed + "  old:\n    image: busybox:stable\n"
	tests := []struct {
		name string
		opts engine.DownOptions
		want string
	}{
		{
			name: "containers and networks; volumes kept; orphan warned about",
			want: `
service:app      remove
service:old      unchanged  orphan: not in the manifest; --remove-orphans removes it
service:redis    remove
network:default  remove
`,
		},
		{
			name: "-v --remove-orphans --rmi",
			opts: engine.DownOptions{Volumes: true, RemoveOrphans: true, Images: []string{"app:1"}},
			want: `
service:app      remove
service:old      remove  orphan: not in the manifest
service:redis    remove
network:default  remove
volume:data      remove
image:app:1      remove
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := engine.Down(load(t, seed), deployed(t, withOld, seedImages), tt.opts)
			if got, want := plan.Text(), strings.TrimPrefix(tt.want, "\n"); got != want {
				t.Errorf("plan:\n%s\nwant:\n%s", got, want)
			}
			// redis stops after app, which depends on it, has stopped;
			// networks, volumes and images go after every container.
			if r := plan.Action("service:redis"); !slices.Equal(r.WaitsFor, []string{"service:app"}) || !slices.Equal(r.AfterStart, r.WaitsFor) {
				t.Errorf("redis waits for %v (after stop: %v), want app stopped", r.WaitsFor, r.AfterStart)
			}
			if n := plan.Action("network:default"); !slices.Contains(n.WaitsFor, "service:redis") || !slices.Contains(n.WaitsFor, "service:app") {
				t.Errorf("network waits for %v, want every removed service", n.WaitsFor)
			}
		})
	}
}

// A service whose profile is off for this run is still the project's: down
// removes it (it is no orphan), else the network it uses could not go.
func TestDownRemovesProfileDisabledServices(t *testing.T) {
	const withDebug = `
services:
  app: {image: app}
  debug: {image: busybox, profiles: [debug]}
`
	running := deployed(t, "services:\n  app: {image: app}\n  debug: {image: busybox}\n", nil)
	plan := engine.Down(load(t, withDebug), running, engine.DownOptions{})
	if a := plan.Action("service:debug"); a == nil || a.Kind != engine.Remove || a.Orphan {
		t.Errorf("debug: %+v, want removed, not an orphan", a)
	}
}

// A one-off run of a service of the manifest goes with down, as with
// Docker Compose's; one of a service gone from it is an orphan. redis waits
// for app's run too: the run depends on it as app does.
func TestDownRemovesOneOffRuns(t *testing.T) {
	withOld := seed + "  old:\n    image: busybox:stable\n"
	obs := deployed(t, withOld, seedImages)
	obs.Services = append(obs.Services,
		engine.ServiceState{Name: "app", OneOff: true, Replicas: 1},
		engine.ServiceState{Name: "old", OneOff: true, Replicas: 1})
	plan := engine.Down(load(t, seed), obs, engine.DownOptions{})
	if a := plan.Action("service:app" + engine.OneOffSuffix); a == nil || a.Kind != engine.Remove || a.Orphan || !a.OneOff {
		t.Errorf("app's run: %+v, want removed, not an orphan", a)
	}
	if a := plan.Action("service:old" + engine.OneOffSuffix); a == nil || a.Kind != engine.Unchanged || !a.Orphan {
		t.Errorf("old's run: %+v, want left as an orphan", a)
	}
	if r := plan.Action("service:redis"); !slices.Equal(r.WaitsFor, []string{"service:app", "service:app" + engine.OneOffSuffix}) {
		t.Errorf("redis waits for %v, want app and its run", r.WaitsFor)
	}
}

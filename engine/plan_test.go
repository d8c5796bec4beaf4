package engine_test

import (
	"encoding/json"
	"testing"

	"github.com/stack-deploy/stack/engine"
)

func TestPlanJSON(t *testing.T) {
	plan, err := engine.Diff(load(t, seed), seedImages, nil, engine.DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := plan.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Project string `json:"project"`
		Changes int    `json:"changes"`
		Actions []struct {
			Resource string   `json:"resource"`
			Action   string   `json:"action"`
			Reason   string   `json:"reason"`
			WaitsFor []string `json:"waits_for"`
			Ready    string   `json:"ready"`
		} `json:"actions"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if got.Project != "shop" || got.Changes != 4 || len(got.Actions) != 4 {
		t.Fatalf("project %q, %d changes, %d actions:\n%s", got.Project, got.Changes, len(got.Actions), b)
	}
	app := got.Actions[3]
	if app.Resource != "service:app" || app.Action != "create" || app.Reason != "new service" || app.Ready != "started" ||
		len(app.WaitsFor) != 2 || app.WaitsFor[0] != "network:default" || app.WaitsFor[1] != "service:redis" {
		t.Errorf("app action: %+v", app)
	}
	if redis := got.Actions[2]; redis.Ready != "healthy" {
		t.Errorf("redis ready %q, want healthy (it has a healthcheck)", redis.Ready)
	}
}

package dashboard_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestDashboardReleasesE2E: with an environment, the dashboard lists its
// releases and which runs.
//
// Model: web (busybox, built), an environment staging with a registry.
//
//	stack release --env staging --tag v1, again as v2
//	stack up --env staging --lock <v1's lock>
//	stack dashboard --env staging -> its stream's state lists v2 and v1, v1 running
func TestDashboardReleasesE2E(t *testing.T) {
	e2e.Engine(t)
	reg := e2e.StartRegistry(t)
	reg.RemoveImagesAtCleanup(t)
	project := e2e.ProjectName(t)
	e2e.RemoveAtCleanup(t, project+"-staging")
	dir := t.TempDir()
	e2e.WriteFiles(t, dir, map[string]string{
		"compose.yaml": `name: ` + project + `
services:
  web:
    build: ./web
x-stack:
  environments:
    staging: {registry: ` + reg.Host + `/shop}
`,
		"web/Dockerfile": "FROM busybox:stable\nCOPY version /version\nCMD [\"sleep\", \"3600\"]\n",
		"web/version":    "1\n",
	})
	stack := e2e.Cmd{Dir: dir, Env: []string{"DOCKER_CONFIG=" + e2e.DockerConfig(t, reg)}}
	v1 := strings.TrimSpace(stack.MustRun(t, "release", "--env", "staging", "--tag", "v1").Stdout)
	e2e.WriteFiles(t, dir, map[string]string{"web/version": "2\n"})
	stack.MustRun(t, "release", "--env", "staging", "--tag", "v2")
	stack.MustRun(t, "up", "--env", "staging", "--lock", lockPath(t, v1))

	var last string
	shown := e2e.DashboardStates(t, dir, stack.Env, func(state []byte) bool {
		var st struct {
			Releases []struct {
				Tag     string `json:"tag"`
				Images  string `json:"images"`
				Running bool   `json:"running"`
			} `json:"releases"`
			ReleasesError string `json:"releases_error"`
		}
		if json.Unmarshal(state, &st) != nil {
			return false
		}
		var got []string
		for _, r := range st.Releases {
			got = append(got, r.Tag+" running="+map[bool]string{true: "yes", false: "no"}[r.Running]+" "+r.Images)
		}
		last = strings.Join(got, "; ") + st.ReleasesError
		return len(st.Releases) == 2 && st.Releases[0].Tag == "v2" && !st.Releases[0].Running &&
			st.Releases[1].Tag == "v1" && st.Releases[1].Running && strings.HasPrefix(st.Releases[1].Images, "web@")
	}, "--env", "staging")
	if !shown {
		t.Errorf("stack dashboard's releases: %q, want v2, then v1 running", last)
	}
}

// lockPath is the release lock file stack release printed last.
func lockPath(t *testing.T, printed string) string {
	t.Helper()
	lines := strings.Split(printed, "\n")
	path := strings.TrimSpace(lines[len(lines)-1])
	if path == "" {
		t.Fatalf("stack release printed no lock file: %q", printed)
	}
	return path
}

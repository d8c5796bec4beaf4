package dashboard_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

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

	cmd := exec.Command(e2e.Binary(t), "dashboard", "--no-open", "--env", "staging")
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "CI=true"), stack.Env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		_ = cmd.Wait()
	}()
	first, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("stack dashboard printed no address: %v", err)
	}
	_, url, _ := strings.Cut(strings.TrimSpace(first), ": ")
	base, token, _ := strings.Cut(url, "?token=")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"events?token="+token, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var last string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		var st struct {
			Releases []struct {
				Tag     string `json:"tag"`
				Images  string `json:"images"`
				Running bool   `json:"running"`
			} `json:"releases"`
			ReleasesError string `json:"releases_error"`
		}
		if !ok || json.Unmarshal([]byte(data), &st) != nil {
			continue
		}
		var got []string
		for _, r := range st.Releases {
			got = append(got, r.Tag+" running="+map[bool]string{true: "yes", false: "no"}[r.Running]+" "+r.Images)
		}
		last = strings.Join(got, "; ") + st.ReleasesError
		if len(st.Releases) == 2 && st.Releases[0].Tag == "v2" && !st.Releases[0].Running &&
			st.Releases[1].Tag == "v1" && st.Releases[1].Running && strings.HasPrefix(st.Releases[1].Images, "web@") {
			return
		}
	}
	t.Errorf("stack dashboard's releases: %q, want v2, then v1 running", last)
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

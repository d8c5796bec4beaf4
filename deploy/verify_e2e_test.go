package deploy_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// Intent: an environment's checks run by themselves after each deploy that
// changes it, their outcome recorded with the release; a release that
// fails them under --lock is rolled back to the last verified one, and
// without --lock or --atomic it stays, the up exiting 1 naming the check.
//
// Model: web (busybox httpd, built) whose good versions have /www/ok.txt;
// environment prod (its registry on loopback) checks it with a command in
// a one-off web container.
//
// Steps:
//
//	v1: release, up --env prod --lock current -> exit 0; releases: v1=running,verified
//	v2 (bad): release, up --lock current      -> exit 1 naming the check, rolled back to v1:
//	                                             web serves v1; v2=failed,rolled back
//	v3 (bad): up --env prod --no-verify       -> exit 0, nothing checked
//	v4 (bad): up --env prod                   -> exit 1 naming the check; v4 stays
func TestVerifyAfterDeploy(t *testing.T) {
	e2e.Engine(t)
	reg := e2e.StartRegistry(t)
	reg.RemoveImagesAtCleanup(t)
	project := e2e.ProjectName(t)
	e2e.RemoveAtCleanup(t, project+"-prod")
	dir := t.TempDir()
	e2e.WriteFiles(t, dir, map[string]string{
		"compose.yaml": `name: ` + project + `
services:
  web:
    build: ./web
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
      interval: 1s
      retries: 30
x-stack:
  environments:
    prod:
      registry: ` + reg.Host + `/shop
      verify:
        - {service: web, command: ["test", "-f", "/www/ok.txt"]}
`,
		"web/Dockerfile":     "FROM busybox:stable\nCOPY www /www\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n",
		"web/www/index.html": "hello\n",
	})
	cmd := e2e.Cmd{Dir: dir, Env: []string{"DOCKER_CONFIG=" + e2e.DockerConfig(t, reg)}}
	version := func(n int, good bool) {
		t.Helper()
		files := map[string]string{"web/www/version": strconv.Itoa(n) + "\n"}
		if good {
			files["web/www/ok.txt"] = "ok\n"
		}
		if err := os.Remove(filepath.Join(dir, "web", "www", "ok.txt")); !good && err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		e2e.WriteFiles(t, dir, files)
	}
	serves := func() string {
		t.Helper()
		return strings.TrimSpace(cmd.MustRun(t, "exec", "--env", "prod", "web", "cat", "/www/version").Stdout)
	}
	statuses := func() string {
		t.Helper()
		var out []struct{ Tag, Status string }
		r := cmd.MustRun(t, "releases", "--env", "prod", "--format", "json")
		if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
			t.Fatalf("releases --format json: %v\n%s", err, r.Stdout)
		}
		var s []string
		for _, l := range out {
			s = append(s, l.Tag+"="+l.Status)
		}
		return strings.Join(s, " ")
	}
	check := `check "web: test -f /www/ok.txt" failed`

	version(1, true)
	cmd.MustRun(t, "release", "--env", "prod", "--tag", "v1")
	cmd.MustRun(t, "up", "--env", "prod", "--lock", "current")
	if got, want := statuses(), "v1=running,verified"; got != want {
		t.Fatalf("after deploying v1: releases %s, want %s", got, want)
	}

	version(2, false)
	cmd.MustRun(t, "release", "--env", "prod", "--tag", "v2")
	r := cmd.Run(t, "up", "--env", "prod", "--lock", "current")
	if r.Code != 1 || !strings.Contains(r.Stderr, check) || !strings.Contains(r.Stderr, "rolled back to v1") {
		t.Fatalf("up --lock of the bad v2: exit %d, want 1 naming the check and the rollback to v1\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if got := serves(); got != "1" {
		t.Errorf("after the rollback web serves version %s, want 1", got)
	}
	if got, want := statuses(), "v2=failed,rolled back v1=running,verified"; got != want {
		t.Errorf("after the rollback: releases %s, want %s", got, want)
	}

	version(3, false)
	if r := cmd.Run(t, "up", "--env", "prod", "--no-verify"); r.Code != 0 || strings.Contains(r.Stderr, check) {
		t.Fatalf("up --no-verify: exit %d, want 0 and no check\n%s", r.Code, r.Stderr)
	}
	version(4, false)
	r = cmd.Run(t, "up", "--env", "prod")
	if r.Code != 1 || !strings.Contains(r.Stderr, check) || strings.Contains(r.Stderr, "rolled back") {
		t.Fatalf("up of the bad v4 without --lock: exit %d, want 1 naming the check, no rollback\n%s", r.Code, r.Stderr)
	}
	if got := serves(); got != "4" {
		t.Errorf("without --lock the failed v4 stays: web serves %s", got)
	}
}

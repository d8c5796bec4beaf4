package registry_test

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
	"github.com/stack-deploy/stack/registry"
)

// historyProject writes a project whose web service (busybox httpd, built)
// serves /www; a good release has /www/ok.txt, which the environments'
// HTTP checks ask for, a bad one has not. Staging also runs a command
// check in a one-off container of web.
func historyProject(t *testing.T, dir, project string, staging, prod *e2e.Registry, stagingPort, prodPort string) {
	t.Helper()
	e2e.WriteFiles(t, dir, map[string]string{
		"compose.yaml": `name: ` + project + `
services:
  web:
    build: ./web
    ports: ["127.0.0.1:${WEB_PORT:-8080}:8080"]
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]
      interval: 1s
      retries: 30
x-stack:
  environments:
    staging:
      registry: ` + staging.Host + `/shop
      env_file: staging.env
      verify:
        - {service: web, command: ["cat", "/www/version"]}
        - {http: "http://127.0.0.1:` + stagingPort + `/ok.txt", within: 3s}
    prod:
      registry: ` + prod.Host + `/shop
      env_file: prod.env
      verify:
        - {http: "http://127.0.0.1:` + prodPort + `/ok.txt", within: 3s}
`,
		"staging.env":        "WEB_PORT=" + stagingPort + "\n",
		"prod.env":           "WEB_PORT=" + prodPort + "\n",
		"web/Dockerfile":     "FROM busybox:stable\nCOPY www /www\nCMD [\"httpd\", \"-f\", \"-p\", \"8080\", \"-h\", \"/www\"]\n",
		"web/www/index.html": "hello\n",
	})
}

// version writes release n of web: good ones serve ok.txt.
func version(t *testing.T, dir string, n int, good bool) {
	t.Helper()
	e2e.WriteFiles(t, dir, map[string]string{"web/www/version": strconv.Itoa(n) + "\n"})
	ok := filepath.Join(dir, "web", "www", "ok.txt")
	if good {
		e2e.WriteFiles(t, dir, map[string]string{"web/www/ok.txt": "ok\n"})
	} else if err := os.Remove(ok); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// listed is what `stack releases --format json` says of each release.
type listed struct {
	Tag, Status, By, From string
	Forced                bool
	Path                  string
}

func releasesJSON(t *testing.T, cmd e2e.Cmd, env string) []listed {
	t.Helper()
	r := cmd.MustRun(t, "releases", "--env", env, "--format", "json")
	var out []listed
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("releases --format json: %v\n%s", err, r.Stdout)
	}
	return out
}

func statuses(ls []listed) string {
	var s []string
	for _, l := range ls {
		s = append(s, l.Tag+"="+l.Status)
	}
	return strings.Join(s, " ")
}

// Intent: releases a team can trust. Verification is recorded with the
// release an environment runs; promote refuses a release staging did not
// verify, naming the check, and --force promotes it saying so; rollback
// skips a failed release for the last verified one; and the history lives
// in the registries, so a fresh checkout (no .stack/releases) lists the
// same history and rolls back the same way.
//
// Model: web (busybox httpd, built) on a published port per environment;
// staging checks a command in a one-off web container and GET /ok.txt,
// prod GET /ok.txt; v1 and v3 serve ok.txt, v2 does not.
//
// Steps:
//
//	v1: release, up staging, verify staging -> PASS x2, recorded
//	    promote, up prod, verify prod      -> verified
//	v2: release, up staging                 -> its checks fail: exit 1 naming the http
//	                                           check, staging rolled back to v1
//	    promote staging prod                -> exit 1 naming it, prod has no v2
//	    promote --force                     -> prod lock promoted_from.forced
//	    up prod                             -> its check fails: exit 1, rolled back to v1
//	v3: release, up staging, verify, promote, up prod, verify prod -> verified
//	releases --env prod -> v3 running,verified; v2 failed,rolled back, from staging (forced); v1 verified
//	rollback --env prod --dry-run            -> chooses v1 (skips failed v2), changes nothing
//	fresh checkout: releases --env prod      -> the same history, no .stack/releases
//	fresh checkout: rollback --env prod      -> v1 runs; both checkouts list v3 rolled back
func TestReleaseHistoryVerifyPromoteRollback(t *testing.T) {
	e2e.Engine(t)
	staging, prod := e2e.StartRegistry(t), e2e.StartRegistry(t)
	staging.RemoveImagesAtCleanup(t)
	prod.RemoveImagesAtCleanup(t)
	project := e2e.ProjectName(t)
	e2e.RemoveAtCleanup(t, project+"-staging", project+"-prod")
	stagingPort, prodPort := freePort(t), freePort(t)
	dir := t.TempDir()
	historyProject(t, dir, project, staging, prod, stagingPort, prodPort)
	env := []string{"DOCKER_CONFIG=" + e2e.DockerConfig(t, staging, prod)}
	a := e2e.Cmd{Dir: dir, Env: env}
	stagingCheck := `check "http http://127.0.0.1:` + stagingPort + `/ok.txt" failed`

	ship := func(n int, good bool) {
		t.Helper()
		tag := "v" + strconv.Itoa(n)
		version(t, dir, n, good)
		a.MustRun(t, "release", "--env", "staging", "--tag", tag)
		if !good {
			// Verified by itself after the deploy: it fails, and staging
			// is rolled back to the last verified release.
			r := a.Run(t, "up", "--env", "staging", "--lock", "current")
			if r.Code != 1 || !strings.Contains(r.Stderr, stagingCheck) || !strings.Contains(r.Stderr, "rolled back to v") {
				t.Fatalf("up --env staging of the bad %s: exit %d, want 1 naming the check and the rollback\n%s", tag, r.Code, r.Stderr)
			}
			r = a.Run(t, "promote", "staging", "prod")
			if r.Code != 1 || !strings.Contains(r.Stderr, stagingCheck) || !strings.Contains(r.Stderr, "--force") {
				t.Fatalf("promote of the unverified %s: exit %d, want 1 naming the check\n%s", tag, r.Code, r.Stderr)
			}
			if ls := releasesJSON(t, a, "prod"); len(ls) != n-1 {
				t.Fatalf("a refused promotion wrote a prod release: %s", statuses(ls))
			}
			path := strings.TrimSpace(a.MustRun(t, "promote", "staging", "prod", "--force").Stdout)
			l, err := registry.ReadLock(path)
			if err != nil || l.PromotedFrom == nil || !l.PromotedFrom.Forced || !strings.Contains(l.PromotedFrom.Unverified, stagingCheck) {
				t.Fatalf("the forced promotion's lock %s does not say it was forced (%v): %+v", path, err, l.PromotedFrom)
			}
			if r := a.Run(t, "up", "--env", "prod", "--lock", "current"); r.Code != 1 || !strings.Contains(r.Stderr, "rolled back to v") {
				t.Fatalf("up --env prod of the bad %s: exit %d, want 1 and a rollback\n%s", tag, r.Code, r.Stderr)
			}
			return
		}
		a.MustRun(t, "up", "--env", "staging", "--lock", "current")
		r := a.Run(t, "verify", "--env", "staging")
		if r.Code != 0 || !strings.Contains(r.Stdout, "PASS  web: cat /www/version") || !strings.Contains(r.Stdout, "release "+tag+" verified on staging") {
			t.Fatalf("verify --env staging of %s: exit %d\n%s%s", tag, r.Code, r.Stdout, r.Stderr)
		}
		a.MustRun(t, "promote", "staging", "prod")
		a.MustRun(t, "up", "--env", "prod", "--lock", "current")
		if r := a.Run(t, "verify", "--env", "prod"); r.Code != 0 {
			t.Fatalf("verify --env prod of %s: exit %d", tag, r.Code)
		}
	}
	ship(1, true)
	ship(2, false)
	ship(3, true)

	want := "v3=running,verified v2=failed,rolled back v1=verified"
	ls := releasesJSON(t, a, "prod")
	if got := statuses(ls); got != want {
		t.Fatalf("releases --env prod: %s, want %s", got, want)
	}
	if ls[1].From != "staging" || !ls[1].Forced || ls[0].Forced || ls[0].By == "" {
		t.Errorf("releases --env prod: %+v: want v2 forced from staging, v3 not, a who", ls)
	}
	table := a.MustRun(t, "releases", "--env", "prod").Stdout
	if !strings.Contains(table, "staging (forced)") || !strings.Contains(table, "web@") {
		t.Errorf("releases table lacks the forced promotion or the short digests:\n%s", table)
	}
	r := a.MustRun(t, "rollback", "--env", "prod", "--dry-run")
	if !strings.Contains(r.Stdout, "back from v3 to v1") || !strings.Contains(r.Stdout, "service:web") {
		t.Fatalf("rollback --dry-run: want v3 -> v1 (v2 failed) and the plan:\n%s", r.Stdout)
	}

	// A second checkout of the same files, without .stack/releases.
	fresh := t.TempDir()
	historyProject(t, fresh, project, staging, prod, stagingPort, prodPort)
	version(t, fresh, 3, true)
	b := e2e.Cmd{Dir: fresh, Env: env}
	if got := statuses(releasesJSON(t, b, "prod")); got != want {
		t.Fatalf("fresh checkout: releases --env prod: %s, want %s", got, want)
	}
	r = b.MustRun(t, "rollback", "--env", "prod")
	if !strings.Contains(r.Stdout, "back from v3 to v1") {
		t.Fatalf("fresh checkout: rollback chose otherwise:\n%s", r.Stdout)
	}
	if _, err := os.Stat(filepath.Join(fresh, ".stack", "releases", "prod")); err != nil {
		t.Errorf("the rollback wrote no lock file into the fresh checkout: %v", err)
	}
	want = "v3=verified,rolled back v2=failed,rolled back v1=running,verified"
	for name, c := range map[string]e2e.Cmd{"first": a, "fresh": b} {
		if got := statuses(releasesJSON(t, c, "prod")); got != want {
			t.Errorf("%s checkout after the rollback: %s, want %s", name, got, want)
		}
	}
	if r := a.Run(t, "verify", "--env", "prod"); r.Code != 0 || !strings.Contains(r.Stdout, "release v1 verified on prod") {
		t.Errorf("after the rollback prod serves v1's ok.txt: verify exit %d\n%s", r.Code, r.Stdout)
	}
}

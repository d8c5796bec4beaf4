package cli_test

import (
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/e2e"
)

// TestSecretsAndConfigsE2E: secrets and configs on one engine, as Docker
// Compose gives them without Swarm.
//
// Model: app (busybox) with a file secret (dbpass), an environment secret
// in the long syntax (token: target api-token, uid/gid 1000, mode 0440), a
// content config at /etc/motd and a file config at its default target
// /appconf; other with an environment config (banner) only. Every value
// is random, so it can be looked for in the output.
//
//	--progress json up   -> exit 0; no value in any output
//	exec app / other     -> each file at its path with its contents; the
//	                        file sources mounted read-only; the copied ones
//	                        root's, mode 0400, unless the long syntax says
//	                        1000:1000 0440
//	plan --detailed-exitcode -> 0
//	change API_TOKEN, dbpass.txt, BANNER in turn
//	                     -> plan (text and json) and up recreate the
//	                        consumer only, which then reads the new value;
//	                        no value in any output
//	config               -> what docker compose config prints: no secret value
func TestSecretsAndConfigsE2E(t *testing.T) {
	random := func(prefix string) string {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		return prefix + hex.EncodeToString(b)
	}
	stack := project(t, `
services:
  app:
    image: busybox:stable
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
    secrets:
      - dbpass
      - source: token
        target: api-token
        uid: "1000"
        gid: "1000"
        mode: 0440
    configs:
      - source: motd
        target: /etc/motd
      - appconf
  other:
    image: busybox:stable
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
    configs:
      - source: banner
        target: /etc/banner
secrets:
  dbpass: {file: ./dbpass.txt}
  token: {environment: API_TOKEN}
configs:
  motd: {content: "welcome aboard"}
  appconf: {file: ./app.conf}
  banner: {environment: BANNER}
`)
	values := map[string]string{"API_TOKEN": random("tok-"), "dbpass.txt": random("pw-"), "BANNER": random("banner-"), "app.conf": random("conf-")}
	write := func() {
		e2e.WriteFiles(t, stack.Dir, map[string]string{"dbpass.txt": values["dbpass.txt"], "app.conf": values["app.conf"]})
		stack.Env = append(stack.Env[:1:1], "API_TOKEN="+values["API_TOKEN"], "BANNER="+values["BANNER"])
	}
	// secret values must appear in no output; configs are no secrets, but
	// an environment config is shown as docker compose config shows it:
	// by its variable's name.
	noValue := func(what string, r e2e.Result) {
		t.Helper()
		for _, k := range []string{"API_TOKEN", "dbpass.txt", "BANNER"} {
			if strings.Contains(r.Stdout+r.Stderr, values[k]) {
				t.Errorf("%s printed the value of %s", what, k)
			}
		}
	}
	project := strings.TrimPrefix(stack.Env[0], "COMPOSE_PROJECT_NAME=")
	id := func(service string) string {
		return e2e.Docker(t, "inspect", "--format", "{{.Id}}", project+"-"+service+"-1")
	}
	exec := func(service, script string) string {
		t.Helper()
		return e2e.Docker(t, "exec", project+"-"+service+"-1", "sh", "-c", script)
	}

	write()
	noValue("up", stack.MustRun(t, "--progress", "json", "up"))
	got := exec("app", `for f in /run/secrets/dbpass /run/secrets/api-token /etc/motd /appconf; do echo "$f $(stat -c '%a %u:%g' $f) $(cat $f)"; done; `+
		`echo x 2>/dev/null > /run/secrets/dbpass && echo dbpass writable; echo x 2>/dev/null > /appconf && echo appconf writable; true`)
	want := strings.Join([]string{
		"/run/secrets/dbpass 644 0:0 " + values["dbpass.txt"],
		"/run/secrets/api-token 440 1000:1000 " + values["API_TOKEN"],
		"/etc/motd 400 0:0 welcome aboard",
		"/appconf 644 0:0 " + values["app.conf"],
	}, "\n")
	if got != want {
		t.Errorf("app's files:\n%s\nwant:\n%s", got, want)
	}
	if got, want := exec("other", `echo "$(stat -c '%a %u:%g' /etc/banner) $(cat /etc/banner)"; test -e /run/secrets && echo has /run/secrets; true`), "400 0:0 "+values["BANNER"]; got != want {
		t.Errorf("other's files: %q, want %q (and no /run/secrets)", got, want)
	}
	if r := stack.Run(t, "plan", "--detailed-exitcode"); r.Code != 0 {
		t.Fatalf("plan after up: exit %d, want 0 (nothing to change)", r.Code)
	}

	for _, change := range []struct{ key, consumer, bystander, path string }{
		{"API_TOKEN", "app", "other", "/run/secrets/api-token"},
		{"dbpass.txt", "app", "other", "/run/secrets/dbpass"},
		{"BANNER", "other", "app", "/etc/banner"},
	} {
		values[change.key] = random("new-")
		write()
		r := stack.Run(t, "--progress", "json", "plan", "--detailed-exitcode")
		noValue("plan", r)
		if r.Code != 2 || !strings.Contains(r.Stdout, "service:"+change.consumer) || strings.Count(r.Stdout, "recreate") != 1 {
			t.Errorf("%s changed: plan exit %d, want 2 and %s alone recreated:\n%s", change.key, r.Code, change.consumer, r.Stdout)
		}
		noValue("plan --format json", stack.MustRun(t, "plan", "--format", "json"))
		before, kept := id(change.consumer), id(change.bystander)
		noValue("up", stack.MustRun(t, "--progress", "json", "up"))
		if id(change.consumer) == before || id(change.bystander) != kept {
			t.Errorf("%s changed: %s recreated %v (want true), %s recreated %v (want false)", change.key,
				change.consumer, id(change.consumer) != before, change.bystander, id(change.bystander) != kept)
		}
		if got := exec(change.consumer, "cat "+change.path); got != values[change.key] {
			t.Errorf("%s after %s changed: %q, want the new value", change.path, change.key, got)
		}
	}

	config := stack.MustRun(t, "--progress", "json", "config")
	noValue("config", config)
	if !strings.Contains(config.Stdout, "environment: API_TOKEN") || !strings.Contains(config.Stdout, filepath.Join(stack.Dir, "dbpass.txt")) {
		t.Errorf("config: want the sources as docker compose config shows them:\n%s", config.Stdout)
	}
}

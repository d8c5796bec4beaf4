package manifest

import (
	"errors"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

const releaseCompose = `name: shop
services:
  api:
    image: busybox:stable
  db:
    image: redis:7-alpine
x-stack:
  release:
    before: [{service: api, command: ["/app", "migrate"]}]
    after:
      - service: api
        command: /app warm-cache --all
  environments:
    staging:
      env_file: staging.env
      verify:
        - {service: api, command: ["/app", "selftest"]}
        - {http: "http://127.0.0.1:${PORT:-1}/health", status: 204, within: 30s}
    prod:
      release:
        before: []
      verify:
        - http: https://shop.example.com/
    extra:
      files: [compose.extra.yaml]
      verify:
        - {service: worker, command: [true]}
`

func TestReleaseAndVerify(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"compose.yaml":       releaseCompose,
		"compose.extra.yaml": "services:\n  worker:\n    image: busybox:stable\n",
		"staging.env":        "PORT=8091\n",
	})
	load := func(env string) *Project {
		t.Helper()
		p, err := Load(t.Context(), Options{ProjectDirectory: dir, Files: []string{filepath.Join(dir, "compose.yaml")}, Env: []string{}, Environment: env})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	migrate := Step{Service: "api", Command: Command{"/app", "migrate"}}
	warm := Step{Service: "api", Command: Command{"/app", "warm-cache", "--all"}}
	tests := []struct {
		env    string
		before []Step
		after  []Step
		checks []string // name, status, timeout
	}{
		{env: "", before: []Step{migrate}, after: []Step{warm}},
		{env: "staging", before: []Step{migrate}, after: []Step{warm}, checks: []string{
			"api: /app selftest 0 10s", "http http://127.0.0.1:8091/health 204 30s"}},
		// before: [] turns the top-level before off; after is kept.
		{env: "prod", before: []Step{}, after: []Step{warm}, checks: []string{"http https://shop.example.com/ 200 10s"}},
		// a service only the environment's files add
		{env: "extra", before: []Step{migrate}, after: []Step{warm}, checks: []string{"worker: true 0 10s"}},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			p := load(tt.env)
			r := p.Release()
			if !reflect.DeepEqual(r.Before, tt.before) || !reflect.DeepEqual(r.After, tt.after) {
				t.Errorf("Release() = %+v, want before %v, after %v", r, tt.before, tt.after)
			}
			var got []string
			for _, c := range p.Checks() {
				status := c.Status
				if c.HTTP != "" {
					status = c.WantStatus()
				}
				got = append(got, c.Name()+" "+strconv.Itoa(status)+" "+c.Timeout().String())
			}
			if strings.Join(got, "|") != strings.Join(tt.checks, "|") {
				t.Errorf("Checks() = %q, want %q", got, tt.checks)
			}
		})
	}
	if got := load("").Release().Before[0].Name(); got != "api: /app migrate" {
		t.Errorf("step name %q", got)
	}
}

// TestInvalidReleaseAndVerify: each mistake is an error naming the file,
// the line and the field, and how to fix it.
func TestInvalidReleaseAndVerify(t *testing.T) {
	tests := []struct {
		name, xstack string
		env          string
		want         string
	}{
		{name: "unknown release service", xstack: `
  release:
    before: [{service: nope, command: [x]}]`,
			want: `compose.yaml:7: x-stack.release.before[0].service: no such service: "nope"; name one of the services: api`},
		{name: "release step without command", xstack: `
  release:
    after:
      - service: api`,
			want: `compose.yaml:8: x-stack.release.after[0].command: no command`},
		{name: "relative URL", xstack: `
  environments:
    staging:
      verify:
        - http: /health`,
			want: `compose.yaml:9: x-stack.environments.staging.verify[0].http: "/health" is not an absolute http or https URL`},
		{name: "within not a duration", xstack: `
  environments:
    staging:
      verify:
        - http: http://127.0.0.1:1/
          within: 30`,
			want: `compose.yaml:10: x-stack.environments.staging.verify[0].within: "30" is not a duration; write a positive duration such as 30s or 2m`},
		{name: "unknown verify service", xstack: `
  environments:
    staging:
      verify:
        - {service: web, command: [x]}`,
			want: `compose.yaml:9: x-stack.environments.staging.verify[0].service: no such service: "web"`},
		{name: "http and service", xstack: `
  environments:
    staging:
      verify:
        - {service: api, http: "http://x/"}`,
			want: `compose.yaml:9: x-stack.environments.staging.verify[0]: both http and service/command`},
		{name: "bad status", xstack: `
  environments:
    staging:
      verify:
        - {http: "http://x/", status: 42}`,
			want: `x-stack.environments.staging.verify[0].status: 42 is not an HTTP status`},
		{name: "unknown key", xstack: `
  environments:
    staging:
      verify:
        - {http: "http://x/", timeout: 3s}`,
			want: `unknown key "timeout"`},
		{name: "environment's files lack the service", env: "extra", xstack: `
  environments:
    extra:
      files: [compose.extra.yaml]
      verify:
        - {service: worker, command: [x]}`,
			want: `compose.yaml:10: x-stack.environments.extra.verify[0].service: no such service: "worker"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeProject(t, map[string]string{
				"compose.yaml":       "name: shop\nservices:\n  api:\n    image: busybox:stable\nx-stack:" + tt.xstack + "\n",
				"compose.extra.yaml": "services:\n  other:\n    image: busybox:stable\n",
			})
			t.Chdir(dir)
			_, err := Load(t.Context(), Options{ProjectDirectory: dir, Files: []string{filepath.Join(dir, "compose.yaml")}, Env: []string{}, Environment: tt.env})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error:\n  %v\nwant it to say:\n  %s", err, tt.want)
			}
			var me *Error
			if !errors.As(err, &me) {
				t.Errorf("error %T is not a *manifest.Error", err)
			}
		})
	}
}

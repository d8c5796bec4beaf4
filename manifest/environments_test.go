package manifest

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

const envCompose = `
name: shop
services:
  web:
    build: ./web
    environment:
      GREETING: ${GREETING:-hello}
      MODE: base
  redis:
    image: redis:7-alpine
  pinned:
    image: busybox@sha256:1111111111111111111111111111111111111111111111111111111111111111
x-stack:
  environments:
    staging:
      registry: 127.0.0.1:5000/shop
      files: [compose.staging.yaml]
      env_file: staging.env
    prod:
      registry: registry.example.com/team/shop/
    local: {}
    broken:
      registry: "Not A Registry!"
`

func TestLoadEnvironment(t *testing.T) {
	files := map[string]string{
		"compose.yaml":         envCompose,
		"compose.staging.yaml": "services:\n  web:\n    environment:\n      MODE: staging\n",
		"staging.env":          "GREETING=from-staging-env\n",
		".env":                 "GREETING=from-dotenv\n",
		"web/Dockerfile":       "FROM scratch\n",
	}
	tests := []struct {
		env        string
		images     map[string]string
		sources    map[string]string
		baseFiles  int
		allFiles   int
		webEnv     map[string]string
		wantErr    error
		errContain []string
	}{
		{
			env: "staging",
			images: map[string]string{
				"web":    "127.0.0.1:5000/shop/web:latest",
				"redis":  "127.0.0.1:5000/shop/redis:7-alpine",
				"pinned": "127.0.0.1:5000/shop/pinned@sha256:1111111111111111111111111111111111111111111111111111111111111111",
			},
			sources: map[string]string{
				"web": "", "redis": "redis:7-alpine",
				"pinned": "busybox@sha256:1111111111111111111111111111111111111111111111111111111111111111",
			},
			baseFiles: 1, allFiles: 2,
			webEnv: map[string]string{"GREETING": "from-staging-env", "MODE": "staging"},
		},
		{
			env: "prod",
			images: map[string]string{
				"web":   "registry.example.com/team/shop/web:latest",
				"redis": "registry.example.com/team/shop/redis:7-alpine",
			},
			baseFiles: 1, allFiles: 1,
			webEnv: map[string]string{"GREETING": "from-dotenv", "MODE": "base"},
		},
		{
			env:       "local",
			images:    map[string]string{"web": "", "redis": "redis:7-alpine"},
			baseFiles: 1, allFiles: 1,
		},
		{
			env:        "prd",
			wantErr:    ErrUnknownEnvironment,
			errContain: []string{`environment "prd" is not defined`, "use one of: broken, local, prod, staging", "compose.yaml"},
		},
		{
			env:        "broken",
			wantErr:    ErrInvalidEnvironment,
			errContain: []string{"x-stack.environments.broken.registry", "Not A Registry!", "repository prefix"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			dir := writeProject(t, files)
			p, err := Load(t.Context(), Options{ProjectDirectory: dir, Files: []string{filepath.Join(dir, "compose.yaml")}, Env: []string{}, Environment: tt.env})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v", err, tt.wantErr)
				}
				for _, s := range tt.errContain {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not say %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Env == nil || p.Env.Name != tt.env {
				t.Fatalf("Env = %+v, want %q selected", p.Env, tt.env)
			}
			for svc, want := range tt.images {
				if got := p.Project.Services[svc].Image; got != want {
					t.Errorf("service %s image %q, want %q", svc, got, want)
				}
			}
			for svc, want := range tt.sources {
				if got := p.Env.SourceImages[svc]; got != want {
					t.Errorf("service %s source image %q, want %q", svc, got, want)
				}
			}
			if len(p.Env.BaseFiles) != tt.baseFiles || len(p.ComposeFiles) != tt.allFiles {
				t.Errorf("base files %v, all files %v: want %d and %d", p.Env.BaseFiles, p.ComposeFiles, tt.baseFiles, tt.allFiles)
			}
			for k, want := range tt.webEnv {
				if got := p.Project.Services["web"].Environment[k]; got == nil || *got != want {
					t.Errorf("web %s = %v, want %q", k, got, want)
				}
			}
		})
	}
}

func TestLoadWithoutEnvironment(t *testing.T) {
	dir := writeProject(t, map[string]string{"compose.yaml": envCompose, "web/Dockerfile": "FROM scratch\n"})
	p, err := Load(t.Context(), Options{Files: []string{filepath.Join(dir, "compose.yaml")}, Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	if p.Env != nil {
		t.Fatalf("Env = %+v with no environment selected", p.Env)
	}
	if got := p.Project.Services["redis"].Image; got != "redis:7-alpine" {
		t.Fatalf("redis image %q, want it as written", got)
	}
	if got := EnvironmentNames(p); strings.Join(got, ",") != "broken,local,prod,staging" {
		t.Fatalf("EnvironmentNames = %v", got)
	}
}

// TestEnvironmentProjectName: each environment is a project of its own,
// <project>-<env> unless it sets x-stack.environments.<env>.project, so
// that staging and prod on one engine never touch each other; -p and
// COMPOSE_PROJECT_NAME (from the shell or an env file) still win, as they
// do over `name:`. An environment's project must be a valid project name.
func TestEnvironmentProjectName(t *testing.T) {
	const compose = `
name: shop
services:
  web:
    image: nginx
x-stack:
  environments:
    staging: {}
    Prod.EU: {}
    live:
      project: shop-live
    bad:
      project: Shop Live
`
	tests := []struct {
		name    string
		env     string
		flag    string   // -p
		vars    []string // the process environment
		dotenv  string
		want    string
		wantErr string
	}{
		{name: "the base name and the environment's", env: "staging", want: "shop-staging"},
		{name: "normalized as compose normalizes names", env: "Prod.EU", want: "shop-prodeu"},
		{name: "the environment's project", env: "live", want: "shop-live"},
		// The environment still makes its own project of a base name set
		// otherwise: two environments on one engine never share one.
		{name: "-p names the base", env: "staging", flag: "mine", want: "mine-staging"},
		{name: "the environment's project wins over -p", env: "live", flag: "mine", want: "shop-live"},
		{name: "COMPOSE_PROJECT_NAME names the base", env: "staging", vars: []string{"COMPOSE_PROJECT_NAME=fromenv"}, want: "fromenv-staging"},
		{name: "COMPOSE_PROJECT_NAME in .env names the base", env: "staging", dotenv: "COMPOSE_PROJECT_NAME=fromdotenv\n", want: "fromdotenv-staging"},
		{name: "no environment: the base name", want: "shop"},
		{name: "an invalid project", env: "bad",
			wantErr: `compose.yaml:13: x-stack.environments.bad.project: invalid project name "Shop Live": must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number; write it as a compose project name, e.g. "shoplive"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"compose.yaml": compose}
			if tt.dotenv != "" {
				files[".env"] = tt.dotenv
			}
			dir := writeProject(t, files)
			t.Chdir(dir)
			p, err := Load(t.Context(), Options{ProjectDirectory: dir, ProjectName: tt.flag, Env: append([]string{"PWD=" + dir}, tt.vars...), Environment: tt.env})
			if tt.wantErr != "" {
				if !errors.Is(err, ErrInvalidEnvironment) || err.Error() != tt.wantErr {
					t.Fatalf("error:\n  %v\nwant ErrInvalidEnvironment:\n  %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != tt.want {
				t.Errorf("project name %q, want %q", p.Name, tt.want)
			}
			if got := p.Networks["default"].Name; got != tt.want+"_default" {
				t.Errorf("default network %q, want %q: resources carry the environment's project", got, tt.want+"_default")
			}
		})
	}
}

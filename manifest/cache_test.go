package manifest

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const cachedCompose = `
services:
  web:
    image: web:${TAG:-1}
    environment: [PASSED]
    env_file: [web.env, {path: extra.env, required: false}]
    label_file: web.labels
  debug:
    image: busybox
    profiles: [debug]
`

// TestModelCache: a second load of unchanged inputs is the first one's
// model from the cache, as is one where only variables no input names
// changed; changing any input of the load (a compose file, a variable it
// interpolates or passes through, one an env_file interpolates, .env, an
// env_file or label_file, one appearing that was absent, the profiles,
// the name) is never answered with the model of before.
func TestModelCache(t *testing.T) {
	files := map[string]string{
		"compose.yaml": cachedCompose,
		"web.env":      "A=1\nC=${FROM_ENV_FILE:-none}\n",
		"web.labels":   "l=1\n",
	}
	tests := []struct {
		name   string
		change func(t *testing.T, dir string, o *Options)
		check  func(t *testing.T, p *Project)
	}{
		{name: "nothing", check: cached},
		{name: "a variable no input names",
			change: func(_ *testing.T, _ string, o *Options) { o.Env = append(o.Env, "OLDPWD=/elsewhere", "_=/usr/bin/env") },
			check:  cached},
		{name: "a variable environment: passes through",
			change: func(_ *testing.T, _ string, o *Options) { o.Env = append(o.Env, "PASSED=yes") },
			check:  env("PASSED", "yes")},
		{name: "a variable only an env_file names",
			change: func(_ *testing.T, _ string, o *Options) { o.Env = append(o.Env, "FROM_ENV_FILE=set") },
			check:  env("C", "set")},
		{name: "COMPOSE_PROFILES",
			change: func(_ *testing.T, _ string, o *Options) { o.Env = append(o.Env, "COMPOSE_PROFILES=debug") },
			check: func(t *testing.T, p *Project) {
				if _, ok := p.Project.Services["debug"]; !ok {
					t.Error("COMPOSE_PROFILES=debug: no debug service")
				}
			}},
		{name: "the compose file",
			change: func(t *testing.T, dir string, _ *Options) {
				writeFile(t, filepath.Join(dir, "compose.yaml"), strings.Replace(cachedCompose, "web:${TAG", "app:${TAG", 1))
			},
			check: image("app:1")},
		{name: "a variable the file reads",
			change: func(_ *testing.T, _ string, o *Options) { o.Env = append(o.Env, "TAG=2") },
			check:  image("web:2")},
		{name: ".env",
			change: func(t *testing.T, dir string, _ *Options) { writeFile(t, filepath.Join(dir, ".env"), "TAG=3\n") },
			check:  image("web:3")},
		{name: "an env_file",
			change: func(t *testing.T, dir string, _ *Options) { writeFile(t, filepath.Join(dir, "web.env"), "A=2\n") },
			check:  env("A", "2")},
		{name: "an optional env_file appearing",
			change: func(t *testing.T, dir string, _ *Options) { writeFile(t, filepath.Join(dir, "extra.env"), "B=1\n") },
			check:  env("B", "1")},
		{name: "a label_file",
			change: func(t *testing.T, dir string, _ *Options) { writeFile(t, filepath.Join(dir, "web.labels"), "l=2\n") },
			check: func(t *testing.T, p *Project) {
				if got := p.Project.Services["web"].Labels["l"]; got != "2" {
					t.Errorf("label l=%q, want 2", got)
				}
			}},
		{name: "the profiles",
			change: func(_ *testing.T, _ string, o *Options) { o.Profiles = []string{"debug"} },
			check: func(t *testing.T, p *Project) {
				if _, ok := p.Project.Services["debug"]; !ok {
					t.Error("--profile debug: no debug service")
				}
			}},
		{name: "the project name",
			change: func(_ *testing.T, _ string, o *Options) { o.ProjectName = "other" },
			check: func(t *testing.T, p *Project) {
				if p.Name != "other" {
					t.Errorf("name %q, want other", p.Name)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeProject(t, files)
			o := Options{ProjectDirectory: dir, Env: []string{"PWD=" + dir}, Cache: t.TempDir()}
			first, err := Load(t.Context(), o)
			if err != nil {
				t.Fatal(err)
			}
			if first.cached {
				t.Fatal("first load came from the cache")
			}
			if tt.change != nil {
				tt.change(t, dir, &o)
			}
			p, err := Load(t.Context(), o)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, p)
			if tt.change == nil && !reflect.DeepEqual(p.Project, first.Project) {
				t.Error("the cached model differs from the loaded one")
			}
		})
	}
}

func cached(t *testing.T, p *Project) {
	if !p.cached {
		t.Error("loaded again; want the cached model, no input of the load changed")
	}
}

func image(want string) func(*testing.T, *Project) {
	return func(t *testing.T, p *Project) {
		for _, s := range p.Project.Services {
			if s.Image == want {
				return
			}
		}
		t.Errorf("no service runs %s: the model of before", want)
	}
}

func env(k, want string) func(*testing.T, *Project) {
	return func(t *testing.T, p *Project) {
		if got := p.Project.Services["web"].Environment[k]; got == nil || *got != want {
			t.Errorf("web %s=%v, want %s", k, got, want)
		}
	}
}

// TestModelCacheKeepsNothing: a project whose load reads files only
// compose-go knows of, during which compose-go warned, or whose model holds
// a secret's value, is not written to the cache; nor is the environment.
func TestModelCacheKeepsNothing(t *testing.T) {
	tests := map[string]map[string]string{
		"include":      {"compose.yaml": "include: [other.yaml]\n" + webWith, "other.yaml": "services:\n  db:\n    image: x\n"},
		"extends.file": {"compose.yaml": "services:\n  web:\n    extends: {file: base.yaml, service: base}\n", "base.yaml": "services:\n  base:\n    image: x\n"},
		"a warning":    {"compose.yaml": "version: '3'\n" + webWith},
		"a secret":     {"compose.yaml": webWith + "    secrets: [s]\nsecrets:\n  s: {environment: TOKEN}\n"},
	}
	for name, files := range tests {
		t.Run(name, func(t *testing.T) {
			dir, cache := writeProject(t, files), t.TempDir()
			if _, err := Load(t.Context(), Options{ProjectDirectory: dir, Env: []string{"PWD=" + dir, "TOKEN=hunter2"}, Cache: cache}); err != nil {
				t.Fatal(err)
			}
			if entries, _ := os.ReadDir(cache); len(entries) != 0 {
				t.Errorf("cache holds %d entries, want none", len(entries))
			}
		})
	}
	t.Run("the environment", func(t *testing.T) {
		dir, cache := writeProject(t, map[string]string{"compose.yaml": webWith}), t.TempDir()
		if _, err := Load(t.Context(), Options{ProjectDirectory: dir, Env: []string{"PWD=" + dir, "SECRET=hunter2"}, Cache: cache}); err != nil {
			t.Fatal(err)
		}
		entries, _ := os.ReadDir(cache)
		if len(entries) != 1 {
			t.Fatalf("cache holds %d entries, want one", len(entries))
		}
		b, err := os.ReadFile(filepath.Join(cache, entries[0].Name()))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "hunter2") {
			t.Error("the cache entry holds the process environment")
		}
		if fi, _ := os.Stat(filepath.Join(cache, entries[0].Name())); fi.Mode().Perm() != 0o600 {
			t.Errorf("entry mode %v, want 0600", fi.Mode().Perm())
		}
	})
}

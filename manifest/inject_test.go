package manifest

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestInjectSettingsErrors: a broken x-stack inject block is refused at load
// time, located at the offending key, with a fix.
func TestInjectSettingsErrors(t *testing.T) {
	tests := []struct {
		name    string
		compose string
		want    []problem
	}{
		{
			name: "service mode misspelt",
			compose: `
services:
  web: {image: web, x-stack: {inject: {mode: al}}}
`,
			want: []problem{{err: ErrInvalid, file: "compose.yaml", line: 3, service: "web", field: "x-stack.inject.mode", text: `unknown mode "al"; use one of [dependencies all none]`}},
		},
		{
			name: "top-level mode misspelt, at its line",
			compose: `
x-stack:
  inject:
    mode: dependency
services:
  web: {image: web}
`,
			want: []problem{{err: ErrInvalid, file: "compose.yaml", line: 4, field: "x-stack.inject.mode", text: `unknown mode "dependency"`}},
		},
		{
			name: "prefix for a service the project does not have, and a prefix that is no variable name",
			compose: `
x-stack:
  inject:
    prefix:
      redsi: CACHE
services:
  web:
    image: web
    x-stack:
      inject:
        prefix:
          redis: cache-1
  redis: {image: redis}
`,
			want: []problem{
				{err: ErrInvalid, file: "compose.yaml", line: 5, field: "x-stack.inject.prefix.redsi", text: `"redsi" is not a service of this project; use one of [redis web]`},
				{err: ErrInvalid, file: "compose.yaml", line: 12, service: "web", field: "x-stack.inject.prefix.redis", text: `prefix "cache-1" is not a variable name`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeProject(t, map[string]string{"compose.yaml": tt.compose})
			_, err := Load(t.Context(), Options{ProjectDirectory: dir, Env: []string{"PWD=" + dir}})
			if err == nil {
				t.Fatal("Load succeeded; want an error")
			}
			got := allErrors(err)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(got), len(tt.want), err)
			}
			for i, w := range tt.want {
				g := got[i]
				if !errors.Is(g, w.err) {
					t.Errorf("problem %d: %v\nis not %v", i, g, w.err)
				}
				if filepath.Base(g.File) != w.file || g.Line != w.line || g.Service != w.service || g.Field != w.field {
					t.Errorf("problem %d at %s:%d service %q field %q; want %s:%d service %q field %q",
						i, filepath.Base(g.File), g.Line, g.Service, g.Field, w.file, w.line, w.service, w.field)
				}
				if !strings.Contains(g.Error(), w.text) {
					t.Errorf("problem %d: %q\nwant it to contain %q", i, g.Error(), w.text)
				}
			}
		})
	}
}

// TestInjectFor: a service's block replaces the top-level mode and adds to
// (and wins over) its prefixes; a prefix for a profile-disabled service is
// no mistake.
func TestInjectFor(t *testing.T) {
	dir := writeProject(t, map[string]string{"compose.yaml": `
x-stack:
  inject:
    mode: all
    prefix: {redis: CACHE, db: SQL}
services:
  web:
    image: web
    x-stack: {inject: {mode: dependencies, prefix: {redis: SESSIONS}}}
  api: {image: api}
  redis: {image: redis}
  db: {image: pg, profiles: [sql]}
  plain: {image: plain, x-stack: {inject: {}}}
`})
	p, err := Load(t.Context(), Options{ProjectDirectory: dir, Env: []string{"PWD=" + dir}})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]Inject{
		"web":   {Mode: InjectDependencies, Prefix: map[string]string{"redis": "SESSIONS", "db": "SQL"}},
		"api":   {Mode: InjectAll, Prefix: map[string]string{"redis": "CACHE", "db": "SQL"}},
		"plain": {Mode: InjectAll, Prefix: map[string]string{"redis": "CACHE", "db": "SQL"}},
	}
	for service, want := range tests {
		if got := p.InjectFor(service); !reflect.DeepEqual(got, want) {
			t.Errorf("InjectFor(%s) = %+v, want %+v", service, got, want)
		}
	}
	// without any block: the default
	dir = writeProject(t, map[string]string{"compose.yaml": "services:\n  web: {image: web}\n"})
	if p, err = Load(t.Context(), Options{ProjectDirectory: dir, Env: []string{"PWD=" + dir}}); err != nil {
		t.Fatal(err)
	}
	if got := p.InjectFor("web"); got.Mode != InjectDependencies || len(got.Prefix) != 0 {
		t.Errorf("InjectFor without settings = %+v, want mode dependencies and no prefix", got)
	}
}

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
		want    []string // each problem's message, the directory left out
	}{
		{
			name: "service mode misspelt",
			compose: `
services:
  web: {image: web, x-stack: {inject: {mode: al}}}
`,
			want: []string{`compose.yaml:3: service "web": x-stack.inject.mode: unknown mode "al"; use one of [dependencies all none]`},
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
			want: []string{`compose.yaml:4: x-stack.inject.mode: unknown mode "dependency"; use one of [dependencies all none]`},
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
			want: []string{
				`compose.yaml:5: x-stack.inject.prefix.redsi: "redsi" is not a service of this project; use one of [redis web]`,
				`compose.yaml:12: service "web": x-stack.inject.prefix.redis: prefix "cache-1" is not a variable name; use letters, digits and _, not starting with a digit (e.g. CACHE)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeProject(t, map[string]string{"compose.yaml": tt.compose})
			_, err := Load(t.Context(), Options{ProjectDirectory: dir, Env: []string{"PWD=" + dir}})
			var got []string
			for _, e := range allErrors(err) {
				if !errors.Is(e, ErrInvalid) {
					t.Errorf("%v is not ErrInvalid", e)
				}
				got = append(got, strings.TrimPrefix(e.Error(), dir+string(filepath.Separator)))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
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

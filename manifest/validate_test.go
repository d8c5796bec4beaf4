package manifest

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/go-multierror"

	"github.com/stack-deploy/stack/internal/e2e"
)

// writeProject writes files (name -> content) into a new directory and
// returns it.
func writeProject(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	e2e.WriteFiles(t, dir, files)
	return dir
}

// problem is one error a test expects: its sentinel and where it points.
type problem struct {
	err     error
	file    string
	line    int
	service string
	field   string
	text    string // a substring of the message, e.g. the cycle
}

// TestValidationErrors: each kind of broken manifest is refused before
// anything else happens, with every problem of the file reported, each
// naming file, line, service and field, and saying how to fix it.
func TestValidationErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		env   []string
		args  func(dir string) Options
		want  []problem
	}{
		{
			name: "yaml syntax, with the line",
			files: map[string]string{"compose.yaml": `
services:
  web:
    image: nginx
   ports: ["80:80"]
`},
			want: []problem{{err: ErrSyntax, file: "compose.yaml", line: 5, text: "did not find expected key"}},
		},
		{
			name: "an unclosed quote: the last line, and where the quote opens",
			files: map[string]string{"compose.yaml": `
services:
  web:
    image: "nginx
`},
			want: []problem{{err: ErrSyntax, file: "compose.yaml", line: 4, text: "while scanning a quoted scalar (from line 4)"}},
		},
		{
			name: "duplicate keys, each with the line of the first",
			files: map[string]string{"compose.yaml": `
services:
  web:
    image: nginx
    image: httpd
  api:
    image: api
  web:
    image: nginx
`},
			want: []problem{
				{err: ErrSyntax, file: "compose.yaml", line: 5, service: "web", field: "image", text: "already defined at line 4"},
				{err: ErrSyntax, file: "compose.yaml", line: 8, service: "web", text: `key "web" is already defined at line 3`},
			},
		},
		{
			name: "depends_on a missing service, list and map forms",
			files: map[string]string{"compose.yaml": `
services:
  web:
    image: nginx
    depends_on: [api, db]
  worker:
    image: busybox
    depends_on:
      queue:
        condition: service_started
  db:
    image: postgres
`},
			want: []problem{
				{err: ErrUnknownDependency, file: "compose.yaml", line: 5, service: "web", field: "depends_on", text: `"api" is not a service`},
				{err: ErrUnknownDependency, file: "compose.yaml", line: 9, service: "worker", field: "depends_on", text: `"queue" is not a service`},
			},
		},
		{
			name: "dependency cycles, each printed once",
			files: map[string]string{"compose.yaml": `
services:
  web:
    image: nginx
    depends_on: [api]
  api:
    image: api
    depends_on: [web]
  a:
    image: x
    depends_on: [b]
  b:
    image: x
    depends_on: [c]
  c:
    image: x
    depends_on: [a]
`},
			want: []problem{
				{err: ErrDependencyCycle, file: "compose.yaml", line: 5, service: "web", field: "depends_on", text: "web -> api -> web"},
				{err: ErrDependencyCycle, file: "compose.yaml", line: 11, service: "a", field: "depends_on", text: "a -> b -> c -> a"},
			},
		},
		{
			name: "a service naming itself: the setting at fault, not a cycle",
			files: map[string]string{"compose.yaml": `
services:
  a:
    image: x
    network_mode: service:a
  b:
    image: x
    ipc: service:b
  c:
    image: x
    links: ["c:self"]
  d:
    image: x
    volumes_from: [d]
  e:
    image: x
    depends_on: [e]
  f:
    image: x
    network_mode: service:a
`},
			want: []problem{
				{err: ErrSelfReference, file: "compose.yaml", line: 5, service: "a", field: "network_mode", text: "service:a: a service cannot share its own network namespace"},
				{err: ErrSelfReference, file: "compose.yaml", line: 8, service: "b", field: "ipc", text: "cannot share its own IPC namespace"},
				{err: ErrSelfReference, file: "compose.yaml", line: 11, service: "c", field: "links", text: `"c:self": a service cannot link to itself`},
				{err: ErrSelfReference, file: "compose.yaml", line: 14, service: "d", field: "volumes_from", text: "cannot mount its own volumes"},
				{err: ErrDependencyCycle, file: "compose.yaml", line: 17, service: "e", field: "depends_on", text: "the service depends on itself"},
			},
		},
		{
			name: "neither image nor build",
			files: map[string]string{"compose.yaml": `
services:
  web:
    environment: {A: b}
  api:
    command: run
`},
			want: []problem{
				{err: ErrNoImage, file: "compose.yaml", line: 3, service: "web", field: "image", text: "add image:"},
				{err: ErrNoImage, file: "compose.yaml", line: 5, service: "api", field: "image"},
			},
		},
		{
			name: "invalid ports and volumes",
			files: map[string]string{"compose.yaml": `
services:
  web:
    image: nginx
    ports:
      - "80:abc"
      - "8080:80"
      - "99999:80"
    volumes:
      - "data:/data"
      - ":/x"
`},
			want: []problem{
				{err: ErrInvalidPort, file: "compose.yaml", line: 6, service: "web", field: "ports[0]", text: `"80:abc"`},
				{err: ErrInvalidPort, file: "compose.yaml", line: 8, service: "web", field: "ports[2]", text: `"99999:80"`},
				{err: ErrInvalidVolume, file: "compose.yaml", line: 11, service: "web", field: "volumes[1]", text: `":/x"`},
			},
		},
		{
			name: "an unset required variable in a port does not hide the other problems",
			files: map[string]string{"compose.yaml": `
services:
  web:
    image: nginx
    ports: ["${PORT:?set PORT}:80"]
    depends_on: [ghost]
`},
			want: []problem{
				{err: ErrRequiredVariable, file: "compose.yaml", line: 5, service: "web", field: "ports[0]", text: "PORT is not set"},
				{err: ErrUnknownDependency, file: "compose.yaml", line: 6, service: "web", field: "depends_on", text: `"ghost"`},
			},
		},
		{
			name: "required variables unset, all of them",
			files: map[string]string{"compose.yaml": `
services:
  web:
    image: ${WEB_IMAGE:?set the web image}
    environment:
      DB_PASSWORD: ${DB_PASSWORD:?}
      MODE: ${MODE:-dev}
`},
			want: []problem{
				{err: ErrRequiredVariable, file: "compose.yaml", line: 4, service: "web", field: "image", text: "WEB_IMAGE is not set (set the web image)"},
				{err: ErrRequiredVariable, file: "compose.yaml", line: 6, service: "web", field: "environment.DB_PASSWORD", text: "DB_PASSWORD"},
			},
		},
		{
			name: "required variable set empty with :? is an error too",
			env:  []string{"WEB_IMAGE="},
			files: map[string]string{"compose.yaml": `
services:
  web:
    image: ${WEB_IMAGE:?}
`},
			want: []problem{{err: ErrRequiredVariable, file: "compose.yaml", line: 4, service: "web", field: "image"}},
		},
		{
			name: "problems of the files and of the model, all in one run",
			files: map[string]string{"compose.yaml": `
services:
  web:
    image: nginx:${TAG:?}
    ports: ["80:abc", "8080:80"]
    depends_on: [api]
  api:
    image: api
    depends_on: [web]
  worker:
    command: run
`},
			want: []problem{
				{err: ErrRequiredVariable, file: "compose.yaml", line: 4, service: "web", field: "image"},
				{err: ErrInvalidPort, file: "compose.yaml", line: 5, service: "web", field: "ports[0]"},
				{err: ErrDependencyCycle, file: "compose.yaml", line: 6, service: "web", field: "depends_on", text: "web -> api -> web"},
				{err: ErrNoImage, file: "compose.yaml", line: 10, service: "worker", field: "image"},
			},
		},
		{
			name: "duplicate container_name",
			files: map[string]string{"compose.yaml": `
services:
  web:
    image: nginx
    container_name: app
  api:
    image: api
    container_name: app
`},
			want: []problem{{err: ErrDuplicateContainerName, file: "compose.yaml", line: 8, service: "api", field: "container_name", text: `service "web"`}},
		},
		{
			name: "dependency disabled by a profile",
			files: map[string]string{"compose.yaml": `
services:
  web:
    image: nginx
    depends_on: [debugger]
  debugger:
    image: busybox
    profiles: [debug]
`},
			want: []problem{{err: ErrDisabledDependency, file: "compose.yaml", line: 5, service: "web", field: "depends_on", text: "--profile debug"}},
		},
		{
			name: "unknown key in the top-level x-stack",
			files: map[string]string{"compose.yaml": `
x-stack:
  injekt: {mode: all}
services:
  web:
    image: nginx
`},
			want: []problem{{err: ErrUnknownExtensionKey, file: "compose.yaml", line: 3, field: "x-stack.injekt", text: `"injekt"`}},
		},
		{
			name: "unknown key in a service's x-stack",
			files: map[string]string{"compose.yaml": `
services:
  web:
    image: nginx
    x-stack:
      inject:
        mood: all
`},
			want: []problem{{err: ErrUnknownExtensionKey, file: "compose.yaml", line: 7, service: "web", field: "x-stack.inject.mood"}},
		},
		{
			name: "the problem is in the override file, and it is named",
			files: map[string]string{
				"compose.yaml": `
services:
  web:
    image: nginx
`,
				"compose.override.yaml": `
services:
  web:
    depends_on: [cache]
`,
			},
			want: []problem{{err: ErrUnknownDependency, file: "compose.override.yaml", line: 4, service: "web", field: "depends_on"}},
		},
		{
			name: "problems in an included file name that file",
			files: map[string]string{
				"compose.yaml": `
include:
  - path: lib/compose.yaml
services:
  web:
    image: nginx
    depends_on: [db]
`,
				"lib/compose.yaml": `
services:
  db:
    image: postgres:${PG:-16}
    depends_on: [nope]
`,
			},
			want: []problem{{err: ErrUnknownDependency, file: "lib/compose.yaml", line: 5, service: "db", field: "depends_on", text: `"nope"`}},
		},
		{
			name: "other compose-go errors still name file and service",
			files: map[string]string{"compose.yaml": `
services:
  web:
    image: nginx
    networks: [front]
`},
			want: []problem{{err: ErrInvalid, file: "compose.yaml", line: 3, service: "web", text: "undefined network front"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeProject(t, tt.files)
			env := append([]string{"PWD=" + dir}, tt.env...)
			_, err := Load(t.Context(), Options{ProjectDirectory: dir, Env: env})
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
				if !strings.HasSuffix(g.File, string(filepath.Separator)+w.file) || g.Line != w.line || g.Service != w.service || (w.field != "" && g.Field != w.field) {
					t.Errorf("problem %d at %s:%d service %q field %q; want %s:%d service %q field %q",
						i, filepath.Base(g.File), g.Line, g.Service, g.Field, w.file, w.line, w.service, w.field)
				}
				msg := g.Error()
				if !strings.Contains(msg, w.text) || (g.Fix == "" && w.err != ErrInvalid) {
					t.Errorf("problem %d: %q\nwant it to contain %q and a fix", i, msg, w.text)
				}
				if w.service != "" && !strings.Contains(msg, `service "`+w.service+`"`) {
					t.Errorf("problem %d: %q does not name the service", i, msg)
				}
			}
			if len(got) > 1 && !strings.Contains(err.Error(), "problems in the compose files") {
				t.Errorf("several problems not listed together: %v", err)
			}
		})
	}
}

// allErrors unpacks the *Error values Load returned.
func allErrors(err error) []*Error {
	var errs []error
	var m *multierror.Error
	if errors.As(err, &m) {
		errs = m.Errors
	} else {
		errs = []error{err}
	}
	var out []*Error
	for _, e := range errs {
		var me *Error
		if errors.As(e, &me) {
			out = append(out, me)
		}
	}
	return out
}

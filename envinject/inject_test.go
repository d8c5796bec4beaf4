package envinject_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/envinject"
	"github.com/stack-deploy/stack/manifest"
)

// fakeFacts: every service is reachable under its name; image ports by
// service (absent: unknown).
type fakeFacts map[string][]string

func (fakeFacts) Host(service string) string           { return service }
func (f fakeFacts) ImagePorts(service string) []string { return f[service] }

// load writes files (compose.yaml and whatever it refers to) to a temporary
// directory and loads the project through manifest.Load.
func load(t testing.TB, files map[string]string) *manifest.Project {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p, err := manifest.Load(t.Context(), manifest.Options{
		Files: []string{filepath.Join(dir, "compose.yaml")},
		Env:   []string{"DB_USER=app"},
	})
	if err != nil {
		t.Fatalf("loading: %v", err)
	}
	return p
}

// render is one service's report as text: NAME=VALUE and where it came from,
// then the notes.
func render(sr envinject.ServiceReport) string {
	var b strings.Builder
	for _, v := range sr.Variables {
		value := "<unset>"
		if v.Value != nil {
			value = *v.Value
		}
		fmt.Fprintf(&b, "%s=%s  %s", v.Name, value, v.Origin)
		if v.From != "" {
			fmt.Fprintf(&b, " from %s", v.From)
		}
		if v.Overrides != "" {
			fmt.Fprintf(&b, " overrides %s", v.Overrides)
		}
		if len(v.Templates) > 0 {
			fmt.Fprintf(&b, " templates %s", strings.Join(v.Templates, ","))
		}
		b.WriteString("\n")
	}
	for _, n := range sr.Notes {
		fmt.Fprintf(&b, "# %s\n", n)
	}
	return b.String()
}

func TestApply(t *testing.T) {
	redisImage := fakeFacts{"redis": {"6379/tcp"}}
	tests := []struct {
		name    string
		compose string
		files   map[string]string // besides compose.yaml
		facts   fakeFacts
		service string
		want    string
	}{
		{
			name: "depends_on: host and port from the image's EXPOSE",
			compose: `
services:
  web: {image: web, depends_on: [redis]}
  redis: {image: redis:7-alpine}
`,
			facts:   redisImage,
			service: "web",
			want: `REDIS_HOST=redis  injected from redis
REDIS_PORT=6379  injected from redis
`,
		},
		{
			name: "the dependency gets nothing from its dependant",
			compose: `
services:
  web: {image: web, depends_on: [redis], expose: ["80"]}
  redis: {image: redis:7-alpine}
`,
			facts:   redisImage,
			service: "redis",
			want:    ``,
		},
		{
			name: "naming: upper case, every non-alphanumeric becomes _",
			compose: `
services:
  web:
    image: web
    depends_on: [user-db, cache.v2, Queue_1]
  user-db: {image: pg, expose: ["5432"]}
  cache.v2: {image: c, expose: ["11211"]}
  Queue_1: {image: q, expose: ["5672"]}
`,
			service: "web",
			want: `CACHE_V2_HOST=cache.v2  injected from cache.v2
CACHE_V2_PORT=11211  injected from cache.v2
QUEUE_1_HOST=Queue_1  injected from Queue_1
QUEUE_1_PORT=5672  injected from Queue_1
USER_DB_HOST=user-db  injected from user-db
USER_DB_PORT=5432  injected from user-db
`,
		},
		{
			name: "links count as dependencies; the alias does not change the prefix",
			compose: `
services:
  web: {image: web, links: ["db:database"]}
  db: {image: pg, expose: ["5432"]}
`,
			service: "web",
			want: `DB_HOST=db  injected from db
DB_PORT=5432  injected from db
`,
		},
		{
			name: "depends_on long form with conditions",
			compose: `
services:
  web:
    image: web
    depends_on:
      db: {condition: service_healthy}
  db: {image: pg, expose: ["5432"], healthcheck: {test: ["CMD", "true"]}}
`,
			service: "web",
			want: `DB_HOST=db  injected from db
DB_PORT=5432  injected from db
`,
		},
		{
			name: "port: expose wins over ports and the image",
			compose: `
services:
  web: {image: web, depends_on: [redis]}
  redis: {image: redis, expose: ["7000"], ports: ["8000:6380"]}
`,
			facts:   redisImage,
			service: "web",
			want: `REDIS_HOST=redis  injected from redis
REDIS_PORT=7000  injected from redis
`,
		},
		{
			name: "port: the target of the first ports entry wins over the image",
			compose: `
services:
  web: {image: web, depends_on: [redis]}
  redis: {image: redis, ports: ["8000:6380"]}
`,
			facts:   redisImage,
			service: "web",
			want: `REDIS_HOST=redis  injected from redis
REDIS_PORT=6380  injected from redis
`,
		},
		{
			name: "port: the image's lowest EXPOSE, whatever order the facts give",
			compose: `
services:
  web: {image: web, depends_on: [api]}
  api: {image: api}
`,
			facts:   fakeFacts{"api": {"9090/tcp", "53/udp", "8080/tcp", "53/tcp"}},
			service: "web",
			want: `API_HOST=api  injected from api
API_PORT=53  injected from api
API_PORT_53_TCP=tcp://api:53  injected from api
API_PORT_53_UDP=udp://api:53  injected from api
API_PORT_8080_TCP=tcp://api:8080  injected from api
API_PORT_9090_TCP=tcp://api:9090  injected from api
`,
		},
		{
			name: "several expose entries: the first is PORT, each gets the links form; ranges expand",
			compose: `
services:
  web: {image: web, depends_on: [api]}
  api: {image: api, expose: ["8443", "8080-8081", "8443/tcp", 9000/udp]}
`,
			service: "web",
			want: `API_HOST=api  injected from api
API_PORT=8443  injected from api
API_PORT_8080_TCP=tcp://api:8080  injected from api
API_PORT_8081_TCP=tcp://api:8081  injected from api
API_PORT_8443_TCP=tcp://api:8443  injected from api
API_PORT_9000_UDP=udp://api:9000  injected from api
`,
		},
		{
			name: "several ports entries: targets in order, protocol kept",
			compose: `
services:
  web: {image: web, depends_on: [dns]}
  dns: {image: dns, ports: ["5353:53/udp", "8053:8053"]}
`,
			service: "web",
			want: `DNS_HOST=dns  injected from dns
DNS_PORT=53  injected from dns
DNS_PORT_53_UDP=udp://dns:53  injected from dns
DNS_PORT_8053_TCP=tcp://dns:8053  injected from dns
`,
		},
		{
			name: "no port anywhere: HOST only, and the report says why",
			compose: `
services:
  web: {image: web, depends_on: [worker, builder]}
  worker: {image: worker}
  builder: {build: .}
`,
			files:   map[string]string{"Dockerfile": "FROM scratch\n"},
			facts:   fakeFacts{"worker": {}},
			service: "web",
			want: `BUILDER_HOST=builder  injected from builder
WORKER_HOST=worker  injected from worker
# no BUILDER_PORT: builder declares no expose or ports, and the ports of its image are unknown (not built or pulled yet?)
# no WORKER_PORT: worker declares no expose or ports, and its image declares no EXPOSE: add ` + "`" + `expose: ["<port>"]` + "`" + ` to worker
`,
		},
		{
			name: "declared values are never overwritten: environment and env_file",
			compose: `
services:
  web:
    image: web
    depends_on: [redis]
    env_file: [web.env]
    environment:
      REDIS_HOST: cache.example.com
      GREETING: hello
  redis: {image: redis}
`,
			files:   map[string]string{"web.env": "REDIS_PORT=7777\nFROM_FILE=1\n"},
			facts:   redisImage,
			service: "web",
			want: `FROM_FILE=1  declared
GREETING=hello  declared
REDIS_HOST=cache.example.com  declared overrides redis
REDIS_PORT=7777  declared overrides redis
`,
		},
		{
			name: "a variable declared without a value still blocks injection",
			compose: `
services:
  web:
    image: web
    depends_on: [redis]
    environment: [REDIS_HOST]
  redis: {image: redis}
`,
			facts:   redisImage,
			service: "web",
			want: `REDIS_HOST=<unset>  declared overrides redis
REDIS_PORT=6379  injected from redis
`,
		},
		{
			name: "templates: resolved after compose interpolation, for any service, in any mode",
			compose: `
x-stack:
  inject: {mode: none}
services:
  web:
    image: web
    environment:
      DATABASE_URL: "postgres://${DB_USER}@{{db.host}}:{{ db.port }}/shop"
      CACHE: "{{redis.host}}:{{redis.port}}"
      FORMAT: "{{ .Name }} {{json .}} {{"
  db: {image: pg, expose: ["5432"]}
  redis: {image: redis}
`,
			facts:   redisImage,
			service: "web",
			want: `CACHE=redis:6379  declared templates redis
DATABASE_URL=postgres://app@db:5432/shop  declared templates db
FORMAT={{ .Name }} {{json .}} {{  declared
`,
		},
		{
			name: "templates: service names with dots",
			compose: `
services:
  web:
    image: web
    environment: {API: "http://{{api.v2.host}}:{{api.v2.port}}/"}
  api.v2: {image: api, expose: ["8080"]}
`,
			service: "web",
			want: `API=http://api.v2:8080/  declared templates api.v2
`,
		},
		{
			name: "mode all at the top level: every other service",
			compose: `
x-stack:
  inject: {mode: all}
services:
  web: {image: web}
  db: {image: pg, expose: ["5432"]}
  redis: {image: redis}
`,
			facts:   redisImage,
			service: "web",
			want: `DB_HOST=db  injected from db
DB_PORT=5432  injected from db
REDIS_HOST=redis  injected from redis
REDIS_PORT=6379  injected from redis
`,
		},
		{
			name: "mode none at the top level: nothing",
			compose: `
x-stack:
  inject: {mode: none}
services:
  web: {image: web, depends_on: [redis]}
  redis: {image: redis}
`,
			facts:   redisImage,
			service: "web",
			want:    ``,
		},
		{
			name: "a service's mode replaces the top-level one",
			compose: `
x-stack:
  inject: {mode: none}
services:
  web:
    image: web
    depends_on: [redis]
    x-stack: {inject: {mode: dependencies}}
  redis: {image: redis}
  db: {image: pg, expose: ["5432"]}
`,
			facts:   redisImage,
			service: "web",
			want: `REDIS_HOST=redis  injected from redis
REDIS_PORT=6379  injected from redis
`,
		},
		{
			name: "a service's mode none",
			compose: `
services:
  web:
    image: web
    depends_on: [redis]
    x-stack: {inject: {mode: none}}
  redis: {image: redis}
`,
			facts:   redisImage,
			service: "web",
			want:    ``,
		},
		{
			name: "rename at the top level",
			compose: `
x-stack:
  inject: {prefix: {redis: CACHE}}
services:
  web: {image: web, depends_on: [redis, db]}
  redis: {image: redis}
  db: {image: pg, expose: ["5432", "5433"]}
`,
			facts:   redisImage,
			service: "web",
			want: `CACHE_HOST=redis  injected from redis
CACHE_PORT=6379  injected from redis
DB_HOST=db  injected from db
DB_PORT=5432  injected from db
DB_PORT_5432_TCP=tcp://db:5432  injected from db
DB_PORT_5433_TCP=tcp://db:5433  injected from db
`,
		},
		{
			name: "a service's rename wins over the top-level one",
			compose: `
x-stack:
  inject: {prefix: {redis: CACHE}}
services:
  web:
    image: web
    depends_on: [redis]
    x-stack: {inject: {prefix: {redis: Sessions}}}
  redis: {image: redis}
`,
			facts:   redisImage,
			service: "web",
			want: `Sessions_HOST=redis  injected from redis
Sessions_PORT=6379  injected from redis
`,
		},
		{
			name: "a rename resolves a collision",
			compose: `
services:
  web:
    image: web
    depends_on: [my-db, my_db]
    x-stack: {inject: {prefix: {my_db: LEGACY_DB}}}
  my-db: {image: pg, expose: ["5432"]}
  my_db: {image: pg, expose: ["5433"]}
`,
			service: "web",
			want: `LEGACY_DB_HOST=my_db  injected from my_db
LEGACY_DB_PORT=5433  injected from my_db
MY_DB_HOST=my-db  injected from my-db
MY_DB_PORT=5432  injected from my-db
`,
		},
		{
			name: "an optional dependency left out by profiles: noted, nothing injected",
			compose: `
services:
  web:
    image: web
    depends_on:
      redis: {condition: service_started}
      debug: {condition: service_started, required: false}
  redis: {image: redis}
  debug: {image: dbg, expose: ["9229"], profiles: [debug]}
`,
			facts:   redisImage,
			service: "web",
			want: `REDIS_HOST=redis  injected from redis
REDIS_PORT=6379  injected from redis
# nothing for debug: it is not enabled (profiles)
`,
		},
		{
			name: "mode all leaves out the services profiles disable",
			compose: `
x-stack: {inject: {mode: all}}
services:
  web: {image: web}
  redis: {image: redis}
  debug: {image: dbg, expose: ["9229"], profiles: [debug]}
`,
			facts:   redisImage,
			service: "web",
			want: `REDIS_HOST=redis  injected from redis
REDIS_PORT=6379  injected from redis
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"compose.yaml": tt.compose}
			for k, v := range tt.files {
				files[k] = v
			}
			p := load(t, files)
			r, err := envinject.Apply(p, tt.facts)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if got := render(r[tt.service]); got != tt.want {
				t.Errorf("%s got:\n%s\nwant:\n%s", tt.service, got, tt.want)
			}
			// The report is the service's final environment, exactly.
			env := p.Project.Services[tt.service].Environment
			if len(env) != len(r[tt.service].Variables) {
				t.Errorf("environment has %d variables, report %d", len(env), len(r[tt.service].Variables))
			}
			for _, v := range r[tt.service].Variables {
				if got, ok := env[v.Name]; !ok || fmt.Sprint(deref(got)) != fmt.Sprint(deref(v.Value)) {
					t.Errorf("environment %s = %v, report says %v", v.Name, deref(got), deref(v.Value))
				}
			}
		})
	}
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

func TestApplyErrors(t *testing.T) {
	tests := []struct {
		name    string
		compose string
		is      error
		want    []string // substrings of the message
	}{
		{
			name: "two dependencies with the same prefix",
			compose: `
services:
  web: {image: web, depends_on: [my-db, my_db]}
  my-db: {image: pg}
  my_db: {image: pg}
`,
			is:   envinject.ErrCollision,
			want: []string{"compose.yaml:3:", `service "web": depends_on`, `"my-db" and "my_db" both give MY_DB_HOST`, "x-stack.inject.prefix", "{prefix: {my_db: MY_DB_2}}"},
		},
		{
			name: "a rename onto another dependency's prefix",
			compose: `
x-stack:
  inject: {prefix: {cache: REDIS}}
services:
  web: {image: web, depends_on: [cache, redis]}
  cache: {image: c}
  redis: {image: redis}
`,
			is:   envinject.ErrCollision,
			want: []string{`service "web"`, `"cache" and "redis" both give REDIS_HOST`},
		},
		{
			name: "collision in mode all",
			compose: `
x-stack:
  inject: {mode: all}
services:
  web: {image: web}
  a-b: {image: x}
  a.b: {image: x}
`,
			is:   envinject.ErrCollision,
			want: []string{`"a-b" and "a.b" both give A_B_HOST`},
		},
		{
			name: "template: unknown service",
			compose: `
services:
  web:
    image: web
    environment: {DATABASE_URL: "postgres://{{dbx.host}}/shop"}
  db: {image: pg}
`,
			is:   envinject.ErrTemplate,
			want: []string{"compose.yaml", `service "web"`, "compose.yaml:5:", "environment.DATABASE_URL", "{{dbx.host}}", `no service "dbx"`, "use one of [db web]"},
		},
		{
			name: "template: unknown field",
			compose: `
services:
  web:
    image: web
    environment: {DATABASE_URL: "postgres://{{db.hostname}}/shop"}
  db: {image: pg}
`,
			is:   envinject.ErrTemplate,
			want: []string{`service "web"`, "environment.DATABASE_URL", `unknown field "hostname"; use host or port`},
		},
		{
			name: "template: port of a service without one",
			compose: `
services:
  web:
    image: web
    environment: {ADDR: "{{db.host}}:{{db.port}}"}
  db: {image: pg}
`,
			is:   envinject.ErrTemplate,
			want: []string{`service "web"`, "environment.ADDR", `service "db" has no port`, "expose"},
		},
		{
			name: "template: a service profiles disable",
			compose: `
services:
  web:
    image: web
    environment: {DEBUG_ADDR: "{{debug.host}}:9229"}
  debug: {image: dbg, profiles: [debug]}
`,
			is:   envinject.ErrTemplate,
			want: []string{"environment.DEBUG_ADDR", `{{debug.host}}: service "debug" is not enabled; enable one of its profiles [debug]`},
		},
		{
			name: "every error at once",
			compose: `
services:
  web:
    image: web
    environment: {A: "{{x.host}}", B: "{{y.host}}"}
  api:
    image: api
    environment: {C: "{{z.port}}"}
`,
			is:   envinject.ErrTemplate,
			want: []string{"environment.A", "environment.B", `service "api": environment.C`},
		},
		{
			name: "expose not a port",
			compose: `
services:
  web: {image: web, depends_on: [redis]}
  redis: {image: redis, expose: ["70000"]}
`,
			is:   envinject.ErrPort,
			want: []string{"compose.yaml:4:", `service "redis": expose`, `"70000" is not a port number`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := load(t, map[string]string{"compose.yaml": tt.compose})
			before := fmt.Sprint(p.Project.Services)
			// db's image is known and EXPOSEs nothing.
			_, err := envinject.Apply(p, fakeFacts{"redis": {"6379/tcp"}, "db": {}})
			if err == nil {
				t.Fatal("Apply: no error")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %q", err, tt.is)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if after := fmt.Sprint(p.Project.Services); after != before {
				t.Errorf("Apply changed the project although it failed")
			}
		})
	}
}

// A template naming the port of a service whose image the target does not
// have yet is left as it is and reported pending: a plan can show it, and
// whatever starts containers refuses it (see cmd/stack/cli).
func TestApplyLeavesUnknownPortsPending(t *testing.T) {
	p := load(t, map[string]string{"compose.yaml": `
services:
  web:
    image: web
    environment: {DATABASE_URL: "postgres://app@{{db.host}}:{{db.port}}/shop"}
  db: {image: postgres}
`})
	report, err := envinject.Apply(p, fakeFacts{}) // db's image: unknown
	if err != nil {
		t.Fatal(err)
	}
	if got := *p.Project.Services["web"].Environment["DATABASE_URL"]; got != "postgres://app@db:{{db.port}}/shop" {
		t.Errorf("DATABASE_URL = %q", got)
	}
	if got := report.Pending(); len(got) != 1 || got[0] != `service "web": DATABASE_URL: {{db.port}}` {
		t.Errorf("Pending() = %q", got)
	}
	report, err = envinject.Apply(load(t, map[string]string{"compose.yaml": `
services:
  web:
    image: web
    environment: {DATABASE_URL: "postgres://app@{{db.host}}:{{db.port}}/shop"}
  db: {image: postgres}
`}), fakeFacts{"db": {"5432/tcp"}})
	if err != nil || len(report.Pending()) != 0 {
		t.Errorf("with the port known: %v, pending %q", err, report.Pending())
	}
}

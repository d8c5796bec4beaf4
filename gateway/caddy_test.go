package gateway_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stack-deploy/stack/gateway"
	"github.com/stack-deploy/stack/manifest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// users is an htpasswd file: alice's password is s3cret (bcrypt, cost 4).
const users = "# made by htpasswd -B\nalice:$2a$04$aakgF0iLrZKITd9FqkbxQua42SRcsPeFdB16GJTeULYD40Pr3IX9i\n"

const services = `
services:
  web:
    image: busybox:stable
    expose: ["8080"]
    x-stack:
      route: %s
  auth:
    image: busybox:stable
    expose: ["9000"]
`

// The rendered Caddy config of each feature, compared with
// testdata/<name>.json (go test -run TestConfigGolden -update rewrites them
// after a deliberate change). Upstreams: web at 10.0.0.2 and 10.0.0.3.
func TestConfigGolden(t *testing.T) {
	tests := []struct {
		name, gateway, route string
	}{
		{"plain", `{ports: ["127.0.0.1:8080:80"]}`, `{path: /api, strip_prefix: true, health: /healthz}`},
		{"tls-internal", `{ports: ["127.0.0.1:8443:443", "127.0.0.1:8080:80"], tls: internal}`, `[{host: api.example.com}, {path: /}]`},
		{"tls-acme", `{ports: ["443:443", "80:80"], tls: {acme: {email: ops@example.com}}}`, `{host: api.example.com}`},
		{"basic-auth", `{ports: ["80:80"]}`, `{path: /, auth: {basic: {users_file: ./users.htpasswd}}}`},
		{"forward-auth", `{ports: ["80:80"]}`, `{path: /, auth: {forward: {service: auth, path: /verify, copy_headers: [X-User]}}}`},
		{"cors", `{ports: ["80:80"]}`, `{path: /, cors: {origins: ["https://app.example.com"], methods: [GET, POST], headers: [Content-Type], credentials: true, max_age: 10m}}`},
		{"cors-any", `{ports: ["80:80"]}`, `{path: /, cors: {origins: ["*"]}}`},
		{"limits-headers", `{ports: ["80:80"]}`, `{path: /, max_body: 10MB, timeout: 30s, headers: {X-Frame-Options: DENY, strict-transport-security: max-age=63072000}}`},
		{"metrics", `{ports: ["127.0.0.1:8080:80"], metrics: {port: 9180}}`, `{path: /}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := load(t, tt.gateway, tt.route)
			got, err := gateway.Config(p.Stack.Gateway, p.GatewayRoutes(), map[string][]string{"web": {"10.0.0.2", "10.0.0.3"}})
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tt.name+".json")
			if *update {
				if err := os.WriteFile(golden, append(got, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if !bytes.Equal(append(got, '\n'), want) {
				t.Errorf("config differs from %s (run with -update after a deliberate change):\n%s", golden, got)
			}
		})
	}
}

// A route with no upstream answers 503 naming its service.
func TestConfigNoUpstream(t *testing.T) {
	p := load(t, `{ports: ["80:80"]}`, `{path: /}`)
	got, err := gateway.Config(p.Stack.Gateway, p.GatewayRoutes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(got, []byte(`"no container of service web is ready\n"`)) || bytes.Contains(got, []byte("10.0.0")) {
		t.Errorf("config without upstreams:\n%s", got)
	}
}

func load(t *testing.T, gw, route string) *manifest.Project {
	t.Helper()
	dir := t.TempDir()
	compose := "name: golden\nx-stack:\n  gateway: " + gw + "\n" + fmt.Sprintf(services, route)
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(compose), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "users.htpasswd"), []byte(users), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := manifest.Load(t.Context(), manifest.Options{ProjectDirectory: dir, Env: []string{"PWD=" + dir}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

package manifest

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// The gateway's TLS, auth, CORS and limits are checked when loading: each
// problem names the file, line, service and field, and a users file's
// content never appears in an error.
func TestGatewayPolicyErrors(t *testing.T) {
	const head = "x-stack:\n  gateway:\n    ports: [\"80:80\"]\nservices:\n  web:\n    image: busybox\n    expose: [\"8080\"]\n    x-stack:\n      route:\n"
	tests := []struct {
		name, compose, users string
		want                 problem
	}{
		{"a users file line that is no bcrypt hash", head + "        path: /\n        auth:\n          basic: {users_file: ./users}\n", "alice:$2a$04$aakgF0iLrZKITd9FqkbxQua42SRcsPeFdB16GJTeULYD40Pr3IX9i\nbob:hunter2\n",
			problem{err: ErrInvalid, file: "compose.yaml", line: 12, service: "web", field: "x-stack.route.auth.basic.users_file", text: "line 2: the password is not a bcrypt hash"}},
		{"a missing users file", head + "        path: /\n        auth: {basic: {users_file: ./nope}}\n", "",
			problem{err: ErrInvalid, file: "compose.yaml", line: 11, service: "web", field: "x-stack.route.auth.basic.users_file", text: "no such file"}},
		{"forward auth to no service", head + "        path: /\n        auth: {forward: {service: nobody, path: /verify}}\n", "",
			problem{err: ErrInvalid, file: "compose.yaml", line: 11, service: "web", field: "x-stack.route.auth.forward.service", text: `no service "nobody"`}},
		{"a CORS origin that is no origin", head + "        path: /\n        cors: {origins: [app.example.com]}\n", "",
			problem{err: ErrInvalid, file: "compose.yaml", line: 11, service: "web", field: "x-stack.route.cors.origins", text: `"app.example.com" is not an origin`}},
		{"a body limit that is no size", head + "        path: /\n        max_body: lots\n", "",
			problem{err: ErrInvalid, file: "compose.yaml", line: 11, service: "web", field: "x-stack.route.max_body", text: `"lots" is not a size`}},
		{"a timeout that is no duration", head + "        path: /\n        timeout: 30\n", "",
			problem{err: ErrInvalid, file: "compose.yaml", line: 11, service: "web", field: "x-stack.route.timeout", text: `"30" is not a duration`}},
		{"TLS without a port 443", strings.Replace(head, "    ports:", "    tls: internal\n    ports:", 1) + "        path: /\n", "",
			problem{err: ErrInvalid, file: "compose.yaml", line: 3, field: "x-stack.gateway.tls", text: "no port of the gateway's is its container port 443"}},
		{"ACME without an email", strings.Replace(head, `["80:80"]`, `["443:443"]`+"\n    tls: {acme: {email: nobody}}", 1) + "        path: /\n", "",
			problem{err: ErrInvalid, file: "compose.yaml", line: 4, field: "x-stack.gateway.tls.acme.email", text: `"nobody" is not an email address`}},
		{"ACME without a host to certify", strings.Replace(head, `["80:80"]`, `["443:443"]`+"\n    tls: {acme: {email: ops@example.com}}", 1) + "        path: /\n", "",
			problem{err: ErrInvalid, file: "compose.yaml", line: 4, field: "x-stack.gateway.tls.acme", text: "no route has a host"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{"compose.yaml": tt.compose}
			if tt.users != "" {
				files["users"] = tt.users
			}
			dir := writeProject(t, files)
			_, err := Load(t.Context(), Options{ProjectDirectory: dir, Env: []string{"PWD=" + dir}})
			if err == nil {
				t.Fatal("Load succeeded; want an error")
			}
			got := allErrors(err)
			if len(got) != 1 {
				t.Fatalf("got %d problems, want 1:\n%v", len(got), err)
			}
			g, w := got[0], tt.want
			if !errors.Is(g, w.err) || filepath.Base(g.File) != w.file || g.Line != w.line || g.Service != w.service || g.Field != w.field {
				t.Errorf("problem at %s:%d service %q field %q (%v); want %s:%d service %q field %q",
					filepath.Base(g.File), g.Line, g.Service, g.Field, g, w.file, w.line, w.service, w.field)
			}
			if msg := g.Error(); !strings.Contains(msg, w.text) || g.Fix == "" || strings.Contains(msg, "hunter2") || strings.Contains(msg, "$2a$") {
				t.Errorf("%q: want it to contain %q and a fix, and nothing of the users file", msg, w.text)
			}
		})
	}
}

// A valid policy loads; the users file is read (its digest in the routes,
// which the gateway's hash covers) and the forward-auth port resolved.
func TestGatewayPolicyLoads(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"users": "alice:$2a$04$aakgF0iLrZKITd9FqkbxQua42SRcsPeFdB16GJTeULYD40Pr3IX9i\n",
		"compose.yaml": `
x-stack:
  gateway: {ports: ["443:443"], tls: internal}
services:
  web:
    image: busybox
    expose: ["8080"]
    x-stack:
      route:
        - {path: /a, auth: {basic: {users_file: ./users}}, cors: {origins: ["*"], max_age: 10m}, max_body: 10MB, timeout: 30s, headers: {X-Frame-Options: DENY}}
        - {path: /b, auth: {forward: {service: auth, copy_headers: [X-User]}}}
  auth:
    image: busybox
    expose: ["9000"]
`})
	p, err := Load(t.Context(), Options{ProjectDirectory: dir, Env: []string{"PWD=" + dir}})
	if err != nil {
		t.Fatal(err)
	}
	routes := p.GatewayRoutes()
	a, b := routes[0], routes[1]
	if a.Path != "/a" || len(a.Auth.Basic.Users) != 1 || a.Auth.Basic.Users[0].Name != "alice" || len(a.Auth.Basic.Digest) != 64 || a.MaxBodyBytes() != 10<<20 {
		t.Errorf("route /a: %+v", a)
	}
	if b.Auth.Forward.Port != 9000 || strings.Join(b.Reaches(), ",") != "web,auth" {
		t.Errorf("route /b: forward port %d, reaches %v; want 9000, web and auth", b.Auth.Forward.Port, b.Reaches())
	}
}

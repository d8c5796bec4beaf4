package docker

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
)

// loadEnv loads yaml as project shop from a directory holding a regular
// file key.pem, with env as the whole environment.
func loadEnv(t *testing.T, yaml string, env ...string) *manifest.Project {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "key.pem"), []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := manifest.Load(t.Context(), manifest.Options{Files: []string{file}, ProjectName: "shop", Env: env})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCheckFiles: what one engine cannot give a service is refused before
// anything changes, naming the file, line, service and field; what it
// gives otherwise than written is warned about.
func TestCheckFiles(t *testing.T) {
	tests := []struct {
		name, yaml string
		env        []string
		err        string // a fragment of the error; empty: none
		warning    string // a fragment of the warnings; empty: none
	}{
		{
			name: "file, environment and content sources",
			yaml: `
services:
  web:
    image: web:1
    secrets: [key, token]
    configs: [motd]
secrets:
  key: {file: ./key.pem}
  token: {environment: TOKEN}
configs:
  motd: {content: hi}
`,
			env: []string{"TOKEN=x"},
		},
		{
			name: "external secret",
			yaml: `
services:
  web: {image: web:1, secrets: [key]}
secrets:
  key:
    external: true
`,
			err: `compose.yaml:6: secrets.key.external: an external secret is a Swarm object, which a single engine does not have; give it a file: or environment: source`,
		},
		{
			name: "unset variable",
			yaml: `
services:
  web: {image: web:1, secrets: [token]}
secrets:
  token:
    environment: TOKEN
`,
			err: `compose.yaml:6: secrets.token.environment: environment variable TOKEN is not set; set it, or write it in the project's .env file`,
		},
		{
			name: "missing file",
			yaml: `
services:
  web: {image: web:1, configs: [conf]}
configs:
  conf:
    file: ./app.conf
`,
			err: `compose.yaml:6: configs.conf.file: stat `,
		},
		{
			name: "a directory",
			yaml: `
services:
  web: {image: web:1, configs: [conf]}
configs:
  conf:
    file: .
`,
			err: `not a regular file: it is a directory; point file: at the regular file holding it`,
		},
		{
			name: "read-only root filesystem",
			yaml: `
services:
  web:
    image: web:1
    read_only: true
    configs: [motd]
configs:
  motd: {content: hi}
`,
			err: `compose.yaml:5: service "web": read_only: configs (motd) is written into the container, whose root filesystem is read-only`,
		},
		{
			name: "copied into a volume",
			yaml: `
services:
  web:
    image: web:1
    volumes: ["data:/etc/app"]
    configs: [{source: motd, target: /etc/app/motd}]
volumes:
  data: {}
configs:
  motd: {content: hi}
`,
			err: `service "web": configs: configs (motd) would be written into what volumes mount at /etc/app, and kept there`,
		},
		{
			name: "two at one target",
			yaml: `
services:
  web:
    image: web:1
    secrets: [{source: a, target: /motd}]
    configs: [{source: b, target: /motd}]
secrets:
  a: {file: ./key.pem}
configs:
  b: {content: ho}
`,
			err: `secrets (a) and configs (b) both go to /motd`,
		},
		{
			name: "uid not a number",
			yaml: `
services:
  web:
    image: web:1
    configs: [{source: motd, uid: app}]
configs:
  motd: {content: hi}
`,
			err: `config "motd": uid "app" is not a number; give uid and gid as numbers`,
		},
		{
			name: "mode on a file source",
			yaml: `
services:
  web:
    image: web:1
    secrets: [{source: key, mode: 0400}]
secrets:
  key: {file: ./key.pem}
`,
			warning: `secrets (key): uid, gid and mode are not applied to a file source`,
		},
		{
			name: "a copied secret only root reads, for a service that runs as another user",
			yaml: `
services:
  web:
    image: web:1
    user: "1000"
    secrets: [token]
secrets:
  token: {environment: TOKEN}
`,
			env:     []string{"TOKEN=x"},
			warning: `only root can read /run/secrets/token (mode 0400), and the service runs as user "1000"; give uid or mode`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := loadEnv(t, tt.yaml, tt.env...)
			warnings, err := check(p, nil, "1.41")
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("error %v, want none", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("error %v, want one with %q", err, tt.err)
			case tt.err != "" && !errors.Is(err, engine.ErrFileSource):
				t.Errorf("error %v is no ErrFileSource", err)
			}
			all := strings.Join(warnings["service:web"], "\n")
			if (tt.warning == "") != (all == "") || !strings.Contains(all, tt.warning) {
				t.Errorf("warnings %q, want %q", all, tt.warning)
			}
		})
	}
}

// TestFileArchive: each copied file lands at its target, root's and
// readable by root only unless the long syntax says otherwise.
func TestFileArchive(t *testing.T) {
	p := loadEnv(t, `
services:
  web:
    image: web:1
    secrets: [key, token, {source: token, target: /etc/token, uid: "1000", gid: "1001", mode: 0440}]
    configs: [motd]
secrets:
  key: {file: ./key.pem}
  token: {environment: TOKEN}
configs:
  motd: {content: hi}
`, "TOKEN=s3cret")
	files, err := copied(p.Project, "web")
	if err != nil {
		t.Fatal(err)
	}
	buf, ids, err := fileArchive(files, time.Unix(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if !ids {
		t.Error("a uid is given: the engine must keep the archive's owners")
	}
	tr := tar.NewReader(buf)
	var got []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		got = append(got, strings.Join([]string{h.Name, string(b), os.FileMode(h.Mode).String(), strconv.Itoa(h.Uid), strconv.Itoa(h.Gid)}, " "))
	}
	want := []string{
		"run/secrets/token s3cret -r-------- 0 0",
		"etc/token s3cret -r--r----- 1000 1001",
		"motd hi -r-------- 0 0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("archive:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

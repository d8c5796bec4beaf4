package engine_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
)

const withSecrets = `
services:
  app:
    image: app:1
    secrets: [token, {source: key, target: tls.key, mode: 0440, uid: "1000"}]
    configs: [{source: motd, target: /etc/motd}]
  other:
    image: app:1
    secrets: [key]
secrets:
  token: {environment: TOKEN}
  key: {file: ./key.pem}
configs:
  motd: {content: "MOTD"}
`

// loadIn loads yaml from dir with env as the whole process environment.
func loadIn(t *testing.T, dir, yaml string, env ...string) *manifest.Project {
	t.Helper()
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

func hashes(t *testing.T, p *manifest.Project) map[string]engine.Hash {
	t.Helper()
	out := map[string]engine.Hash{}
	for _, name := range p.ServiceNames() {
		h, err := engine.ConfigHash(p.Project, p.Project.Services[name], "sha256:1")
		if err != nil {
			t.Fatal(err)
		}
		out[name] = h
	}
	return out
}

// TestFileSources resolves where each secret and config goes and what it
// holds: a secret under /run/secrets unless absolute, a config at its
// target or /<key>; a file source is mounted, the others copied.
func TestFileSources(t *testing.T) {
	dir := t.TempDir()
	yaml := strings.Replace(withSecrets, "/etc/motd}]", "/etc/motd}, conf]", 1) + "  conf: {file: ./app.conf}\n"
	p := loadIn(t, dir, yaml, "TOKEN=t0ken")
	files, err := engine.FileSources(p.Project, p.Project.Services["app"])
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range files {
		line := f.Kind + " " + f.Key + " " + f.Target
		if f.Copied() {
			line += " copied " + string(f.Content)
		} else {
			line += " mounted from " + strings.TrimPrefix(f.File, dir)
		}
		got = append(got, line)
	}
	want := []string{
		"secret token /run/secrets/token copied t0ken",
		"secret key /run/secrets/tls.key mounted from /key.pem",
		"config motd /etc/motd copied MOTD",
		"config conf /conf mounted from /app.conf",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("sources:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestConfigHashCoversSecretValues: a changed secret or config value
// changes the hash of the services that use it, and only theirs; the hash
// never carries the value, and a value is never printed.
func TestConfigHashCoversSecretValues(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(key, []byte("key-one"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := hashes(t, loadIn(t, dir, withSecrets, "TOKEN=t0ken-one"))

	after := hashes(t, loadIn(t, dir, withSecrets, "TOKEN=t0ken-two"))
	if after["app"].Sum == before["app"].Sum || after["other"].Sum != before["other"].Sum {
		t.Errorf("TOKEN changed: app %v, other %v; want only app's hash changed", after["app"].Sum != before["app"].Sum, after["other"].Sum != before["other"].Sum)
	}
	if before["app"].Parts["secrets"] == after["app"].Parts["secrets"] || before["app"].Parts["configs"] != after["app"].Parts["configs"] {
		t.Errorf("parts before %v after %v: want the secrets part alone to differ", before["app"].Parts, after["app"].Parts)
	}

	changed := hashes(t, loadIn(t, dir, strings.Replace(withSecrets, `content: "MOTD"`, `content: "MOTD2"`, 1), "TOKEN=t0ken-one"))
	if changed["app"].Sum == before["app"].Sum || changed["other"].Sum != before["other"].Sum {
		t.Error("a changed config content must change the hash of app only")
	}

	if err := os.WriteFile(key, []byte("key-two"), 0o600); err != nil {
		t.Fatal(err)
	}
	rekeyed := hashes(t, loadIn(t, dir, withSecrets, "TOKEN=t0ken-one"))
	if rekeyed["app"].Sum == before["app"].Sum || rekeyed["other"].Sum == before["other"].Sum {
		t.Error("a changed secret file must change the hash of both services that use it")
	}

	for _, h := range []engine.Hash{before["app"], after["app"], rekeyed["other"]} {
		if s := h.Sum + h.PartsLabel(); strings.Contains(s, "t0ken") || strings.Contains(s, "key-") {
			t.Errorf("hash %s carries a value", s)
		}
	}
	p := loadIn(t, dir, withSecrets, "TOKEN=t0ken-one")
	files, err := engine.FileSources(p.Project, p.Project.Services["app"])
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(files)
	if err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprintf("%v %+v %#v %s %s", files, files, files, files[0].Content, b); strings.Contains(s, "t0ken") {
		t.Errorf("a secret printed: %s", s)
	}
}

// TestFileSourceErrors: an unset variable, or a file source that is no
// regular file (a FIFO would block the read for ever), is an error at
// once, naming the secret.
func TestFileSourceErrors(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "key.pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := loadIn(t, dir, withSecrets)
	start := time.Now()
	_, err := engine.ConfigHash(p.Project, p.Project.Services["other"], "")
	if !errors.Is(err, engine.ErrFileSource) || !strings.Contains(err.Error(), `secret "key"`) || !strings.Contains(err.Error(), "named pipe") {
		t.Errorf("FIFO: %v, want ErrFileSource naming the secret and the named pipe", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusing the FIFO took %v", d)
	}
	_, err = engine.ConfigHash(p.Project, p.Project.Services["app"], "")
	var se *engine.SourceError
	if !errors.As(err, &se) || se.Key != "token" || se.Field != "environment" || !strings.Contains(err.Error(), "TOKEN is not set") {
		t.Errorf("unset TOKEN: %v, want a SourceError naming token and TOKEN", err)
	}
}

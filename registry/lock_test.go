package registry

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/manifest"
)

const (
	digestA = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	digestB = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// The lock's text is its interface in code review: stable key order, one
// value a line, a trailing newline.
func TestLockMarshalIsStableAndDiffable(t *testing.T) {
	l := &Lock{
		Version: LockVersion, Project: "shop", Environment: "staging", Tag: "v1",
		Created:   time.Date(2026, 11, 22, 1, 2, 3, 0, time.UTC),
		GitCommit: "0123456789abcdef0123456789abcdef01234567",
		Manifest:  ManifestHash{Hash: digestA, Files: map[string]string{"compose.yaml": digestA, "compose.override.yaml": digestB}},
		Services: map[string]ServiceImage{
			"web":   {Image: "127.0.0.1:5000/shop/web@" + digestA, Source: "build"},
			"redis": {Image: "127.0.0.1:5000/shop/redis@" + digestB, Source: "redis:7-alpine"},
		},
	}
	want := `{
  "version": 1,
  "project": "shop",
  "environment": "staging",
  "tag": "v1",
  "created": "2026-11-22T01:02:03Z",
  "git_commit": "0123456789abcdef0123456789abcdef01234567",
  "manifest": {
    "hash": "` + digestA + `",
    "files": {
      "compose.override.yaml": "` + digestB + `",
      "compose.yaml": "` + digestA + `"
    }
  },
  "services": {
    "redis": {
      "image": "127.0.0.1:5000/shop/redis@` + digestB + `",
      "source": "redis:7-alpine"
    },
    "web": {
      "image": "127.0.0.1:5000/shop/web@` + digestA + `",
      "source": "build"
    }
  }
}
`
	for range 3 {
		b, err := l.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != want {
			t.Fatalf("lock renders as\n%s\nwant\n%s", b, want)
		}
	}
	path := filepath.Join(t.TempDir(), "lock.json")
	if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := ReadLock(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := back.Marshal()
	if string(b) != want {
		t.Fatalf("read back and rendered again:\n%s", b)
	}
}

func TestReadLockRefuses(t *testing.T) {
	valid := `{"version":1,"project":"shop","environment":"prod","tag":"v1","created":"2026-11-22T00:00:00Z",
"manifest":{"hash":"` + digestA + `","files":{}},"services":{"web":{"image":"r.example/shop/web@` + digestA + `"}}}`
	tests := []struct {
		name, content string
		want          []string
	}{
		{"floating tag", strings.Replace(valid, "web@"+digestA, "web:latest", 1), []string{"services.web.image", "not pinned by digest"}},
		{"unknown field", strings.Replace(valid, `"tag"`, `"tga"`, 1), []string{"unknown field"}},
		{"no services", strings.Replace(valid, `"services":{"web":{"image":"r.example/shop/web@`+digestA+`"}}`, `"services":{}`, 1), []string{"services is empty"}},
		{"future version", strings.Replace(valid, `"version":1`, `"version":2`, 1), []string{"version 2"}},
		{"not JSON", "services: {}", []string{"invalid lock file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "lock.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadLock(path)
			if !errors.Is(err, ErrInvalidLock) {
				t.Fatalf("ReadLock: %v, want ErrInvalidLock", err)
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
	path := filepath.Join(t.TempDir(), "lock.json")
	if err := os.WriteFile(path, []byte(valid), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadLock(path); err != nil {
		t.Fatalf("the valid lock: %v", err)
	}
}

const checkCompose = `
name: shop
services:
  web:
    image: shop/web
  redis:
    image: redis:7-alpine
x-stack:
  environments:
    staging: {registry: 127.0.0.1:5000/shop}
    prod: {registry: 127.0.0.1:5001/shop, files: [compose.prod.yaml]}
`

func loadFor(t *testing.T, dir, env string) *manifest.Project {
	t.Helper()
	p, err := manifest.Load(t.Context(), manifest.Options{Files: []string{filepath.Join(dir, "compose.yaml")}, Env: []string{}, Environment: env})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// A lock is checked against the manifest before anything changes: same
// environment, every service covered, same compose files; the error lists
// every difference.
func TestLockCheckAndPin(t *testing.T) {
	base := map[string]string{"compose.yaml": checkCompose, "compose.prod.yaml": "services:\n  web:\n    environment: {MODE: prod}\n"}
	dir := t.TempDir()
	writeFiles(t, dir, base)
	mh, err := HashManifest(loadFor(t, dir, "prod"))
	if err != nil {
		t.Fatal(err)
	}
	if len(mh.Files) != 1 || mh.Files["compose.yaml"] == "" {
		t.Fatalf("manifest hash covers %v, want the base compose.yaml only", mh.Files)
	}
	if other, _ := HashManifest(loadFor(t, dir, "staging")); other.Hash != mh.Hash {
		t.Fatalf("staging and prod hash the manifest differently: %s, %s", other.Hash, mh.Hash)
	}
	lockFor := func(env string, services ...string) *Lock {
		l := &Lock{Version: LockVersion, Project: "shop-" + env, Environment: env, Tag: "v1", GitCommit: "abc123", Manifest: mh, Services: map[string]ServiceImage{}}
		for _, s := range services {
			l.Services[s] = ServiceImage{Image: "127.0.0.1:5001/shop/" + s + "@" + digestA}
		}
		return l
	}

	tests := []struct {
		name    string
		env     string
		lock    *Lock
		compose string // replaces compose.yaml when set
		want    []string
	}{
		{name: "matches", env: "prod", lock: lockFor("prod", "web", "redis")},
		{name: "extra service in lock is fine", env: "prod", lock: lockFor("prod", "web", "redis", "old")},
		{name: "service missing", env: "prod", lock: lockFor("prod", "web"), want: []string{"service redis: in the manifest, not in the lock"}},
		{name: "other environment", env: "prod", lock: lockFor("staging", "web", "redis"), want: []string{`the lock is for "staging", the command for "prod"`, "stack promote staging prod"}},
		{
			name: "manifest changed", env: "prod", lock: lockFor("prod", "web", "redis"),
			compose: strings.Replace(checkCompose, "redis:7-alpine", "redis:8", 1),
			want:    []string{"compose.yaml: changed since the release (lock " + mh.Files["compose.yaml"][7:19], "git checkout abc123"},
		},
		{
			name: "service added", env: "prod", lock: lockFor("prod", "web", "redis"),
			compose: strings.Replace(checkCompose, "  redis:\n", "  cache:\n    image: busybox\n  redis:\n", 1),
			want:    []string{"service cache: in the manifest, not in the lock", "compose.yaml: changed since the release"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, base)
			if tt.compose != "" {
				writeFiles(t, dir, map[string]string{"compose.yaml": tt.compose})
			}
			p := loadFor(t, dir, tt.env)
			err := Pin(p, tt.lock, "prod/v1.json")
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				for _, svc := range p.ServiceNames() {
					s := p.Project.Services[svc]
					if s.Image != tt.lock.Services[svc].Image || s.Build != nil || s.PullPolicy != "missing" {
						t.Errorf("pinned %s: image %q build %v pull_policy %q", svc, s.Image, s.Build, s.PullPolicy)
					}
				}
				return
			}
			var me *MismatchError
			if !errors.As(err, &me) || !errors.Is(err, ErrLockMismatch) {
				t.Fatalf("Pin: %v, want a *MismatchError", err)
			}
			for _, s := range tt.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error\n%s\ndoes not say %q", err, s)
				}
			}
			if got := p.Project.Services["web"].Image; got != "127.0.0.1:5001/shop/web:latest" {
				t.Errorf("a refused lock changed the project: web image %q", got)
			}
		})
	}
}

// Locks are kept per environment, listed newest first, with current
// pointing at the last one saved.
func TestStore(t *testing.T) {
	s := Store{Dir: filepath.Join(t.TempDir(), "releases")}
	if _, err := s.Current("prod"); !errors.Is(err, ErrNoRelease) {
		t.Fatalf("Current of an empty store: %v, want ErrNoRelease", err)
	}
	if es, err := s.List("prod"); err != nil || len(es) != 0 {
		t.Fatalf("List of an empty store: %v, %v", es, err)
	}
	mk := func(tag string, created time.Time) *Lock {
		return &Lock{Version: LockVersion, Environment: "prod", Tag: tag, Created: created, Manifest: ManifestHash{Hash: digestA},
			Services: map[string]ServiceImage{"web": {Image: "r.example/shop/web@" + digestA}}}
	}
	t0 := time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)
	otherV2 := mk("v2", t0.Add(time.Hour))
	otherV2.Services["web"] = ServiceImage{Image: "r.example/shop/web@" + digestB}
	var paths []string
	for i, l := range []*Lock{mk("v1", t0), mk("v2", t0.Add(time.Hour)), otherV2, mk("v0/../x", t0.Add(-time.Hour))} {
		p, err := s.Save(l)
		if err != nil {
			t.Fatalf("save %d: %v", i, err)
		}
		paths = append(paths, p)
	}
	wantNames := []string{"20261122T010000Z-v1.json", "20261122T020000Z-v2.json", "20261122T020000Z-v2.2.json", "20261122T000000Z-v0_.._x.json"}
	for i, p := range paths {
		if filepath.Base(p) != wantNames[i] || filepath.Dir(p) != filepath.Join(s.Dir, "prod") {
			t.Errorf("save %d wrote %s, want %s in %s", i, p, wantNames[i], filepath.Join(s.Dir, "prod"))
		}
	}
	cur, err := s.Current("prod")
	if err != nil || cur != paths[3] {
		t.Fatalf("current is %s (%v), want the last saved %s", cur, err, paths[3])
	}
	// The same release again (a second promotion) writes nothing.
	again, err := s.Save(mk("v0/../x", t0.Add(time.Minute)))
	if err != nil || again != paths[3] {
		t.Fatalf("saving the current release again: %s, %v; want the current lock %s", again, err, paths[3])
	}
	if err := os.WriteFile(filepath.Join(s.Dir, "prod", "broken.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	es, err := s.List("prod")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		name := filepath.Base(e.Path)
		if e.Current {
			name += "*"
		}
		if e.Err != nil {
			name += "!"
		}
		got = append(got, name)
	}
	want := "20261122T020000Z-v2.2.json 20261122T020000Z-v2.json 20261122T010000Z-v1.json 20261122T000000Z-v0_.._x.json* broken.json!"
	if strings.Join(got, " ") != want {
		t.Fatalf("List:\n %s\nwant\n %s", strings.Join(got, " "), want)
	}
}

func TestLockFor(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"compose.yaml": checkCompose, "compose.prod.yaml": "services: {}\n"})
	p := loadFor(t, dir, "prod")
	if _, err := LockFor(p, CurrentLock); !errors.Is(err, ErrNoRelease) {
		t.Fatalf("LockFor current without releases: %v, want ErrNoRelease", err)
	}
	saved, err := Store{Dir: DefaultStoreDir(dir)}.Save(&Lock{Version: LockVersion, Environment: "prod", Tag: "v1",
		Manifest: ManifestHash{Hash: digestA}, Services: map[string]ServiceImage{"web": {Image: "r.example/shop/web@" + digestA}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, arg := range []string{"", CurrentLock} {
		if got, err := LockFor(p, arg); err != nil || got != saved {
			t.Errorf("LockFor(%q) = %s, %v; want %s", arg, got, err, saved)
		}
	}
	if got, _ := LockFor(p, "old.json"); got != "old.json" {
		t.Errorf("LockFor(old.json) = %s", got)
	}
	if _, err := LockFor(loadFor(t, dir, ""), CurrentLock); err == nil {
		t.Error("LockFor current without an environment succeeded")
	}
}

func TestDefaultTag(t *testing.T) {
	at := time.Date(2026, 11, 22, 1, 15, 0, 0, time.FixedZone("CET", 3600))
	for commit, want := range map[string]string{
		"": "20261122-001500",
		"0123abcdef0123abcdef0123abcdef0123abcdef": "20261122-001500-0123abc",
	} {
		if got := defaultTag(at, commit); got != want || !tagPattern.MatchString(got) {
			t.Errorf("defaultTag(%q) = %q, want %q", commit, got, want)
		}
	}
}

package image

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stack-deploy/stack/internal/e2e"
)

// The expectations are what `docker build` (classic builder) sends for the
// same tree and .dockerignore.
func TestContextHonoursDockerignore(t *testing.T) {
	base := map[string]string{
		"Dockerfile":          "FROM scratch\n",
		"app.go":              "package main",
		"secret.txt":          "s3cret",
		"debug.log":           "x",
		"keep.log":            "x",
		"dir/a":               "a",
		"dir/keep":            "k",
		"dir/sub/b.tmp":       "t",
		"node_modules/m/i.js": "m",
	}
	tests := []struct {
		name   string
		ignore string // "" means no .dockerignore
		want   []string
	}{
		{"no dockerignore", "", []string{"Dockerfile", "app.go", "debug.log", "dir", "dir/a", "dir/keep", "dir/sub", "dir/sub/b.tmp", "keep.log", "node_modules", "node_modules/m", "node_modules/m/i.js", "secret.txt"}},
		{"one file", "secret.txt\n", []string{".dockerignore", "Dockerfile", "app.go", "debug.log", "dir", "dir/a", "dir/keep", "dir/sub", "dir/sub/b.tmp", "keep.log", "node_modules", "node_modules/m", "node_modules/m/i.js"}},
		{"glob with exception", "*.log\n!keep.log\n", []string{".dockerignore", "Dockerfile", "app.go", "dir", "dir/a", "dir/keep", "dir/sub", "dir/sub/b.tmp", "keep.log", "node_modules", "node_modules/m", "node_modules/m/i.js", "secret.txt"}},
		{"directory with an exception inside", "dir\n!dir/keep\n", []string{".dockerignore", "Dockerfile", "app.go", "debug.log", "dir/keep", "keep.log", "node_modules", "node_modules/m", "node_modules/m/i.js", "secret.txt"}},
		{"double star, comment, leading slash", "# deps\n**/*.tmp\n/node_modules\n", []string{".dockerignore", "Dockerfile", "app.go", "debug.log", "dir", "dir/a", "dir/keep", "dir/sub", "keep.log", "secret.txt"}},
		{"everything but the Dockerfile still sends it", "*\n!app.go\n", []string{".dockerignore", "Dockerfile", "app.go"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range base {
				files[k] = v
			}
			if tt.ignore != "" {
				files[".dockerignore"] = tt.ignore
			}
			c, err := newContextSpec(e2e.Tree(t, files), "", "")
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.files()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("context files\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func tarEntries(t *testing.T, c *contextSpec) map[string]*tar.Header {
	t.Helper()
	var buf bytes.Buffer
	if err := c.writeTar(&buf); err != nil {
		t.Fatal(err)
	}
	out := map[string]*tar.Header{}
	tr := tar.NewReader(&buf)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		h.PAXRecords = map[string]string{"content": string(b)}
		out[h.Name] = h
	}
}

func TestContextTarIsOwnedByRoot(t *testing.T) {
	dir := e2e.Tree(t, map[string]string{"Dockerfile": "FROM scratch\n", "bin/run": "#!/bin/sh\n"})
	if err := os.Chmod(filepath.Join(dir, "bin/run"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("bin/run", filepath.Join(dir, "run")); err != nil {
		t.Fatal(err)
	}
	c, err := newContextSpec(dir, "", "")
	if err != nil {
		t.Fatal(err)
	}
	got := tarEntries(t, c)
	names := make([]string, 0, len(got))
	for n := range got {
		names = append(names, n)
	}
	sort.Strings(names)
	if want := []string{"Dockerfile", "bin/", "bin/run", "run"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("tar entries %q, want %q", names, want)
	}
	if h := got["bin/run"]; h.Mode&0o777 != 0o755 || h.Uid != 0 || h.Gid != 0 || h.PAXRecords["content"] != "#!/bin/sh\n" {
		t.Errorf("bin/run: mode %o uid %d gid %d content %q", h.Mode, h.Uid, h.Gid, h.PAXRecords["content"])
	}
	if h := got["run"]; h.Typeflag != tar.TypeSymlink || h.Linkname != "bin/run" {
		t.Errorf("run: type %c link %q, want a symlink to bin/run", h.Typeflag, h.Linkname)
	}
}

func TestContextInlineDockerfileIsAddedAndIgnored(t *testing.T) {
	for _, tt := range []struct {
		name, dockerfile, inline string
	}{
		{"dockerfile_inline", "", "FROM scratch\nCOPY a /a\n"},
		{"dockerfile outside the context", "../Dockerfile.outside", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			root := e2e.Tree(t, map[string]string{"ctx/a": "a", "ctx/.dockerignore": "secret\n", "Dockerfile.outside": "FROM scratch\nCOPY a /a\n"})
			c, err := newContextSpec(filepath.Join(root, "ctx"), tt.dockerfile, tt.inline)
			if err != nil {
				t.Fatal(err)
			}
			if c.dockerfile != inlineDockerfile {
				t.Fatalf("dockerfile name %q, want %q", c.dockerfile, inlineDockerfile)
			}
			got := tarEntries(t, c)
			if h := got[inlineDockerfile]; h == nil || h.PAXRecords["content"] != "FROM scratch\nCOPY a /a\n" {
				t.Fatalf("tar has no %s with the Dockerfile: %v", inlineDockerfile, got)
			}
			if ig := got[".dockerignore"].PAXRecords["content"]; !strings.Contains(ig, "secret\n") || !strings.HasSuffix(ig, "\n"+inlineDockerfile+"\n") {
				t.Errorf(".dockerignore in the tar is %q: want the user's patterns and the generated Dockerfile", ig)
			}
		})
	}
}

func TestDigestCoversInputsNotTimes(t *testing.T) {
	files := map[string]string{"Dockerfile": "FROM busybox:stable\nCOPY . /src\n", "a.txt": "a", "ignored.txt": "i", ".dockerignore": "ignored.txt\n"}
	digest := func(t *testing.T, dir string, mutate func(*buildInputs)) string {
		t.Helper()
		c, err := newContextSpec(dir, "", "")
		if err != nil {
			t.Fatal(err)
		}
		in := buildInputs{context: c, args: map[string]string{"V": "1"}, bases: map[string]string{"busybox:stable": "sha256:1"}, tags: []string{"p-web"}}
		if mutate != nil {
			mutate(&in)
		}
		d, err := in.digest()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		name    string
		change  func(t *testing.T, dir string)
		mutate  func(*buildInputs)
		differs bool
	}{
		{"nothing", nil, nil, false},
		{"touch without change", func(t *testing.T, dir string) {
			later := time.Now().Add(time.Hour)
			if err := os.Chtimes(filepath.Join(dir, "a.txt"), later, later); err != nil {
				t.Fatal(err)
			}
		}, nil, false},
		{"ignored file changed", func(t *testing.T, dir string) { write(t, dir, "ignored.txt", "changed") }, nil, false},
		{"context file changed", func(t *testing.T, dir string) { write(t, dir, "a.txt", "b") }, nil, true},
		{"context file added", func(t *testing.T, dir string) { write(t, dir, "new.txt", "n") }, nil, true},
		{"mode changed", func(t *testing.T, dir string) {
			if err := os.Chmod(filepath.Join(dir, "a.txt"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, nil, true},
		{"Dockerfile changed", func(t *testing.T, dir string) { write(t, dir, "Dockerfile", "FROM busybox:stable\n") }, nil, true},
		{"dockerignore changed", func(t *testing.T, dir string) { write(t, dir, ".dockerignore", "ignored.txt\n*.md\n") }, nil, true},
		{"arg changed", nil, func(in *buildInputs) { in.args = map[string]string{"V": "2"} }, true},
		{"base image changed", nil, func(in *buildInputs) { in.bases = map[string]string{"busybox:stable": "sha256:2"} }, true},
		{"target set", nil, func(in *buildInputs) { in.target = "prod" }, true},
		{"label added", nil, func(in *buildInputs) { in.labels = map[string]string{"a": "b"} }, true},
		{"platform set", nil, func(in *buildInputs) { in.platforms = []string{"linux/arm64"} }, true},
		{"secret added", nil, func(in *buildInputs) { in.secrets = []string{"token"} }, true},
		{"ssh added", nil, func(in *buildInputs) { in.ssh = []string{"default="} }, true},
		{"no_cache_filter set", nil, func(in *buildInputs) { in.noCacheFilter = []string{"deps"} }, true},
		{"additional context added", nil, func(in *buildInputs) {
			in.contexts = map[string]namedContext{"tools": {ref: "docker-image://busybox:stable"}}
		}, true},
		{"ulimit set", nil, func(in *buildInputs) { in.ulimits = []string{"nofile=1024:2048"} }, true},
		{"cache_from set", nil, func(in *buildInputs) { in.cacheFrom = []string{"r.example/web:cache"} }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := e2e.Tree(t, files)
			before := digest(t, dir, nil)
			if tt.change != nil {
				tt.change(t, dir)
			}
			after := digest(t, dir, tt.mutate)
			if (before != after) != tt.differs {
				t.Errorf("digest before %s after %s: differs=%v, want %v", before, after, before != after, tt.differs)
			}
		})
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

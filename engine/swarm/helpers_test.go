package swarm

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stack-deploy/stack/manifest"
)

// digest is a made-up image digest for the tests.
const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// load loads a compose file (and files next to it) as project "shop".
func load(t *testing.T, yaml string, files ...string) *types.Project {
	t.Helper()
	dir := t.TempDir()
	for i := 0; i+1 < len(files); i += 2 {
		if err := os.WriteFile(filepath.Join(dir, files[i]), []byte(files[i+1]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := manifest.Load(t.Context(), manifest.Options{Files: []string{file}, ProjectName: "shop", Env: []string{"TOKEN=from-env"}})
	if err != nil {
		t.Fatal(err)
	}
	return p.Project
}

// pinned gives every service of p an image digest in a registry.
func pinned(p *types.Project) map[string]string {
	images := map[string]string{}
	for name := range p.Services {
		images[name] = "127.0.0.1:5235/shop/" + name + "@" + digest
	}
	return images
}

// at returns the JSON of the value at a dotted path in v's JSON
// ("TaskTemplate.ContainerSpec.Mounts.0.Source": a number indexes a list),
// or "<absent>".
func at(t *testing.T, v any, path string) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var cur any
	if err := json.Unmarshal(b, &cur); err != nil {
		t.Fatal(err)
	}
	for _, k := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			var ok bool
			if cur, ok = c[k]; !ok {
				return "<absent>"
			}
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i >= len(c) {
				return "<absent>"
			}
			cur = c[i]
		default:
			return "<absent>"
		}
	}
	b, _ = json.Marshal(cur)
	return string(b)
}

// canon re-encodes JSON with object keys sorted, as at returns it, so that a
// test writes fields in the order the type declares them.
func canon(t *testing.T, js string) string {
	t.Helper()
	if js == "<absent>" {
		return js
	}
	var v any
	if err := json.Unmarshal([]byte(js), &v); err != nil {
		t.Fatalf("bad JSON in test: %s: %v", js, err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// discard drops what an executor notes.
type discard struct{}

func (discard) Status(string) {}
func (discard) Warn(string)   {}

package manifest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMarshalYAMLInPieces: the model encoded a service, network and volume
// at a time is compose-go's encoding of the whole, byte for byte: on the
// corpus, and on large projects with what the emitter treats specially (keys that need
// quoting or sort as numbers, long lines it folds at the 80th column,
// multi-line strings, empty values, top-level extensions).
func TestMarshalYAMLInPieces(t *testing.T) {
	for _, dir := range modelDirs(t, tricky(t, 64), tricky(t, 300)) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			p := loadDir(t, dir)
			want, err := p.MarshalYAML()
			if err != nil {
				t.Fatal(err)
			}
			got, ok, err := marshalInPieces(p.Project)
			if err != nil || !ok {
				t.Fatalf("marshalInPieces: %v, %v; want the output in pieces", ok, err)
			}
			if !bytes.Equal(got, want) {
				g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
				for i := range min(len(g), len(w)) {
					if g[i] != w[i] {
						t.Fatalf("line %d differs:\n got %q\nwant %q", i+1, g[i], w[i])
					}
				}
				t.Fatalf("%d lines, want %d", len(g), len(w))
			}
		})
	}
}

// modelDirs lists the projects of the corpus (not the broken ones), then
// extra.
func modelDirs(t *testing.T, extra ...string) []string {
	t.Helper()
	all, err := filepath.Glob(filepath.Join("testdata", "corpus", "*"))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, dir := range all {
		if fi, err := os.Stat(dir); err == nil && fi.IsDir() && filepath.Base(dir) != "broken" {
			abs, err := filepath.Abs(dir)
			if err != nil {
				t.Fatal(err)
			}
			dirs = append(dirs, abs)
		}
	}
	return append(dirs, extra...)
}

// loadDir loads the project in dir as `stack config` there would.
func loadDir(t *testing.T, dir string) *Project {
	t.Helper()
	p, err := Load(t.Context(), Options{ProjectDirectory: dir, Env: []string{"PWD=" + dir}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// tricky writes a project of n services that exercises the encoder.
func tricky(t *testing.T, n int) string {
	var b strings.Builder
	b.WriteString("name: tricky\nx-top: {a: 1, long: \"" + strings.Repeat("word ", 30) + "\"}\nservices:\n")
	for i := range n {
		name := fmt.Sprintf("svc%d", i)
		switch i % 5 {
		case 1:
			name = fmt.Sprint(i) // a number: quoted, sorted as a number
		case 2:
			name = fmt.Sprintf("s.%d-x_y", i)
		}
		fmt.Fprintf(&b, "  %q:\n    image: busybox:%d\n", name, i)
		fmt.Fprintf(&b, "    command: [\"sh\", \"-c\", %q]\n", strings.Repeat("echo a long argument ", i%9))
		fmt.Fprintf(&b, "    environment:\n      LONG: %q\n      MULTI: \"line one\\nline two\\n\"\n      EMPTY: \"\"\n", strings.Repeat("x", 60+i%40)+" "+strings.Repeat("y", i%30))
		fmt.Fprintf(&b, "    labels: {\"com.example/%d\": \"yes\", other: \"%d\"}\n", i, i)
		fmt.Fprintf(&b, "    volumes: [\"v%d:/data\", \"./conf:/etc/conf:ro\"]\n    networks: [front, back%d]\n", i%7, i%3)
		if i%4 == 0 {
			fmt.Fprintf(&b, "    x-note: {k: %d}\n    healthcheck: {test: [\"CMD\", \"true\"], interval: 5s}\n", i)
		}
	}
	b.WriteString("networks:\n  front: {}\n  back0: {driver: bridge}\n  back1: {}\n  back2: {external: true}\nvolumes:\n")
	for i := range 7 {
		fmt.Fprintf(&b, "  v%d: {labels: {n: \"%d\"}}\n", i, i)
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "compose.yaml"), b.String())
	return dir
}

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
	dirs, err := filepath.Glob(filepath.Join("testdata", "corpus", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{64, 300} {
		dirs = append(dirs, tricky(t, n))
	}
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() || strings.HasSuffix(dir, "broken") {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			abs, err := filepath.Abs(dir)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Load(t.Context(), Options{ProjectDirectory: abs, Env: []string{"PWD=" + abs}})
			if err != nil {
				t.Skipf("not a loadable project: %v", err)
			}
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

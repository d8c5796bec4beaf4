package manifest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// bomb is nine levels of anchors, each a list of nine aliases of the level
// below: a few hundred bytes that decode to 387 million values.
func bomb() string {
	var b strings.Builder
	b.WriteString("x-l0: &l0 [lol]\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "x-l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 9), ", "))
	}
	b.WriteString("services:\n  web:\n    image: busybox\n    labels: {x: *l9}\n")
	return b.String()
}

// deepBlock nests n mappings in block style, under an extension key.
func deepBlock(n int) string {
	var b strings.Builder
	b.WriteString("services:\n  web:\n    image: busybox\nx-deep:\n")
	for i := range n {
		fmt.Fprintf(&b, "%sk%d:\n", strings.Repeat("  ", i+1), i)
	}
	fmt.Fprintf(&b, "%sv\n", strings.Repeat("  ", n+1))
	return b.String()
}

const webWith = "services:\n  web:\n    image: busybox\n"

// TestHostileManifests: input built to exhaust the machine (a YAML alias
// bomb, deep nesting, a file that is a device, a FIFO, a directory or a huge
// sparse file, wherever the manifest or the command line names it) is
// refused before it is read, with an error naming the file (and line), in
// under a second and a few megabytes. Without the limits the bomb grows to
// gigabytes, /dev/zero fills the memory, and a FIFO blocks for ever.
func TestHostileManifests(t *testing.T) {
	type setup = func(t *testing.T, dir string)
	fifo := func(name string) setup {
		return func(t *testing.T, dir string) {
			if err := syscall.Mkfifo(filepath.Join(dir, name), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	subdir := func(name string) setup {
		return func(t *testing.T, dir string) {
			if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	sparse := func(name string) setup {
		return func(t *testing.T, dir string) {
			f, err := os.Create(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.Truncate(1 << 30); err != nil {
				t.Fatal(err)
			}
		}
	}
	file := func(name, content string) setup {
		return func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, name), content) }
	}
	tests := []struct {
		name    string
		compose string                   // compose.yaml, unless empty
		setup   setup                    // makes the special files
		opts    func(dir string) Options // default: the directory's compose.yaml
		err     error
		want    string // in the message
	}{
		{name: "billion laughs", compose: bomb(), err: ErrYAMLLimit,
			want: `compose.yaml:7: the aliases expand to more than 200000 values (alias *l5 adds`},
		{name: "an alias inside its own anchor", compose: "x-a: &a [1, *a]\n" + webWith, err: ErrYAMLLimit,
			want: "compose.yaml:1: alias *a is inside the value it refers to"},
		{name: "deep block nesting", compose: deepBlock(2000), err: ErrYAMLLimit,
			want: "compose.yaml:103: the values nest deeper than 100 levels"},
		{name: "deep flow nesting", compose: webWith + "x-deep: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "\n",
			err: ErrYAMLLimit, want: "compose.yaml:4: the values nest deeper than 100 levels"},
		{name: "env_file /dev/zero", compose: webWith + "    env_file: /dev/zero\n", err: ErrNotRegularFile,
			want: `compose.yaml:4: service "web": env_file: reading /dev/zero: not a regular file: it is a character device`},
		{name: "env_file a FIFO", compose: webWith + "    env_file: [fifo]\n", setup: fifo("fifo"), err: ErrNotRegularFile,
			want: `compose.yaml:4: service "web": env_file: reading fifo: not a regular file: it is a named pipe (FIFO)`},
		{name: "env_file a directory", compose: webWith + "    env_file: [{path: ./sub, required: false}]\n", setup: subdir("sub"), err: ErrNotRegularFile,
			want: `compose.yaml:4: service "web": env_file: reading sub: not a regular file: it is a directory`},
		{name: "env_file a 1 GiB sparse file", compose: webWith + "    env_file: big.env\n", setup: sparse("big.env"), err: ErrFileTooLarge,
			want: `compose.yaml:4: service "web": env_file: reading big.env: file too large: it is 1 GiB; name a regular file of at most 32 MiB`},
		{name: "label_file a FIFO", compose: webWith + "    label_file: fifo\n", setup: fifo("fifo"), err: ErrNotRegularFile,
			want: `compose.yaml:4: service "web": label_file: reading fifo: not a regular file`},
		{name: "include /dev/zero", compose: "include: [/dev/zero]\n" + webWith, err: ErrNotRegularFile,
			want: "compose.yaml:1: include: reading /dev/zero: not a regular file: it is a character device"},
		{name: "include with a FIFO env_file", compose: "include:\n  - path: other.yaml\n    env_file: fifo\n" + webWith, setup: fifo("fifo"), err: ErrNotRegularFile,
			want: "compose.yaml:3: include.env_file: reading fifo: not a regular file"},
		{name: "a bomb in an included file", compose: "include: [other.yaml]\n" + webWith, err: ErrYAMLLimit,
			setup: file("other.yaml", bomb()),
			want:  "other.yaml:7: the aliases expand to more than 200000 values"},
		{name: "extends.file a FIFO", compose: "services:\n  web:\n    extends: {file: fifo, service: base}\n", setup: fifo("fifo"), err: ErrNotRegularFile,
			want: `compose.yaml:3: service "web": extends.file: reading fifo: not a regular file`},
		{name: "the project's .env a FIFO", compose: webWith, err: ErrNotRegularFile,
			setup: fifo(".env"),
			want:  ".env: not a regular file: it is a named pipe (FIFO)"},
		{name: "--env-file /dev/zero", compose: webWith, err: ErrNotRegularFile,
			opts: func(dir string) Options {
				return Options{ProjectDirectory: dir, EnvFiles: []string{"/dev/zero"}, Env: []string{"PWD=" + dir}}
			},
			want: "/dev/zero: not a regular file: it is a character device"},
		{name: "-f a FIFO", setup: fifo("fifo"), err: ErrNotRegularFile,
			opts: func(dir string) Options {
				return Options{Files: []string{filepath.Join(dir, "fifo")}, Env: []string{"PWD=" + dir}}
			},
			want: "fifo: not a regular file: it is a named pipe (FIFO)"},
		{name: "-f a directory", setup: subdir("sub"), err: ErrNotRegularFile,
			opts: func(dir string) Options {
				return Options{Files: []string{filepath.Join(dir, "sub")}, Env: []string{"PWD=" + dir}}
			},
			want: "sub: not a regular file: it is a directory"},
		{name: "-f a 1 GiB sparse file", err: ErrFileTooLarge,
			setup: sparse("compose.yaml"),
			want:  "compose.yaml: file too large: it is 1 GiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.compose != "" {
				writeFile(t, filepath.Join(dir, "compose.yaml"), tt.compose)
			}
			if tt.setup != nil {
				tt.setup(t, dir)
			}
			opts := Options{ProjectDirectory: dir, Env: []string{"PWD=" + dir}}
			if tt.opts != nil {
				opts = tt.opts(dir)
			}
			// The deadline is a guard: without the limits these never end
			// (a FIFO) or take minutes; with them they take milliseconds.
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := Load(ctx, opts)
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("refused in %v, %.1f MB allocated: %v", took, float64(allocated)/1e6, err)
			if !errors.Is(err, tt.err) {
				t.Fatalf("Load: %v; want %v", err, tt.err)
			}
			if msg := strings.ReplaceAll(err.Error(), dir+"/", ""); !strings.Contains(msg, tt.want) {
				t.Errorf("error:\n  %s\nwant it to contain\n  %s", msg, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error is not a located *Error: %v", err)
			}
			// Reading what these name, or expanding the bomb, allocates
			// gigabytes; refusing them, well under this.
			if allocated > 64<<20 {
				t.Errorf("allocated %d MB; want the input refused before it is read", allocated>>20)
			}
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

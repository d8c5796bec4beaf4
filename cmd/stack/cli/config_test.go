package cli

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of manifest/testdata/golden")

// corpus is where the compose projects `stack config` is checked against
// live; manifest/testdata/corpus/compare-compose.sh checks the same cases
// against `docker compose config`.
var corpus = filepath.Join("..", "..", "..", "manifest", "testdata", "corpus")

type corpusCase struct {
	name, dir string
	env       []string
	args      []string
}

func readCases(t *testing.T) []corpusCase {
	t.Helper()
	f, err := os.Open(filepath.Join(corpus, "cases.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []corpusCase
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if len(fields) < 4 {
			t.Fatalf("cases.txt: %q: want name dir env args...", sc.Text())
		}
		c := corpusCase{name: fields[0], dir: fields[1], args: fields[3:]}
		if fields[2] != "-" {
			c.env = strings.Split(fields[2], ",")
		}
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

// TestConfigGolden: `stack config` on each project of the corpus prints the
// model recorded in manifest/testdata/golden (which compare-compose.sh found
// identical to `docker compose config`), and on each broken-* one exits 1
// with the error message recorded there; -update rewrites them.
func TestConfigGolden(t *testing.T) {
	root, err := filepath.Abs(corpus)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range readCases(t) {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(root, c.dir)
			isolateEnv(t, dir)
			for _, kv := range c.env {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			// --no-inject: the model as docker compose prints it (compare-compose.sh)
			args := append(c.args[:len(c.args):len(c.args)], "--no-inject")
			code := Execute(t.Context(), args, strings.NewReader(""), &stdout, &stderr)
			out := stdout.String()
			if broken := strings.HasPrefix(c.name, "broken-"); broken {
				if code != 1 || out != "" {
					t.Fatalf("stack %s: exit %d, stdout %q; want exit 1 and only an error", strings.Join(c.args, " "), code, out)
				}
				out = stderr.String()
			} else if code != 0 {
				t.Fatalf("stack %s: exit %d\n%s", strings.Join(c.args, " "), code, stderr.String())
			}
			got := strings.ReplaceAll(out, root, "<corpus>")
			golden := filepath.Join(root, "..", "golden", c.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestConfigGolden -update ./cmd/stack/cli/ to create it)", err)
			}
			if got != string(want) {
				t.Errorf("stack %s differs from %s:\n--- got\n%s\n--- want\n%s", strings.Join(c.args, " "), golden, got, want)
			}
		})
	}
}

// isolateEnv runs the test in dir with none of the Compose variables of the
// caller's environment set, restoring everything afterwards.
func isolateEnv(t *testing.T, dir string) {
	t.Helper()
	t.Chdir(dir)
	t.Setenv("PWD", dir)
	for _, k := range []string{"COMPOSE_PROJECT_NAME", "COMPOSE_PROFILES", "COMPOSE_FILE", "COMPOSE_PATH_SEPARATOR", "COMPOSE_DISABLE_ENV_FILE"} {
		if v, ok := os.LookupEnv(k); ok {
			t.Setenv(k, v) // registers the restore
			_ = os.Unsetenv(k)
		}
	}
}

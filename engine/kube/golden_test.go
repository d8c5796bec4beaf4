package kube

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/envinject"
	"github.com/stack-deploy/stack/manifest"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/*.golden")

// facts stands for what an engine knows of the images: the service's name
// is its host, and the images EXPOSE the ports given.
type facts map[string][]string

func (f facts) Host(service string) string         { return service }
func (f facts) ImagePorts(service string) []string { return f[service] }

// TestGolden: each project maps to the objects (and warnings) recorded in
// testdata/<name>.golden, or is refused with the errors recorded there;
// -update rewrites them. The objects are rendered as `stack config --format
// kubernetes` prints them, so the files also show that output.
func TestGolden(t *testing.T) {
	tests := []struct {
		name        string
		file        string
		env         []string
		environment string
		opts        Options
		images      facts
	}{
		// kvstore publishes its port in the NodePort range when told to...
		{name: "kvstore", file: "examples/kvstore/compose.yaml", env: []string{"KVSTORE_PORT=30080"}, images: facts{"redis": {"6379/tcp"}}},
		// ...and is refused as it is, on 8080,
		{name: "kvstore-refused", file: "examples/kvstore/compose.yaml", images: facts{"redis": {"6379/tcp"}}},
		// unless a load balancer serves it.
		{name: "kvstore-loadbalancer", file: "examples/kvstore/compose.yaml", opts: Options{Expose: manifest.ExposeLoadBalancer}, images: facts{"redis": {"6379/tcp"}}},
		// pizza publishes its gateway in the NodePort range.
		{name: "pizza", file: "examples/pizza/compose.yaml", env: []string{"PIZZA_PORT=30800"}},
		{name: "full", file: "engine/kube/testdata/full/compose.yaml"},
		{name: "refused", file: "engine/kube/testdata/refused/compose.yaml"},
		{name: "warned", file: "engine/kube/testdata/warned/compose.yaml", env: []string{"TOKEN=t0ken"}},
		{name: "environment", file: "engine/kube/testdata/environment/compose.yaml", environment: "prod"},
	}
	testdata, err := filepath.Abs("testdata")
	if err != nil {
		t.Fatal(err)
	}
	// From the repository's root, the errors name the files as a user
	// there would, the same on every machine.
	t.Chdir(filepath.Join("..", ".."))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := append([]string{}, tt.env...)
			p, err := manifest.Load(t.Context(), manifest.Options{Files: []string{tt.file}, Env: env, Environment: tt.environment})
			if err != nil {
				t.Fatal(err)
			}
			if tt.images == nil {
				tt.images = facts{}
			}
			if _, err := envinject.Apply(p, tt.images); err != nil {
				t.Fatal(err)
			}
			got := render(t, p, tt.opts)
			golden := filepath.Join(testdata, tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs (run with -update to accept):\n%s", golden, diffLines(string(want), got))
			}
			if again := render(t, p, tt.opts); again != got {
				t.Errorf("a second mapping of the same project renders other bytes")
			}
		})
	}
}

// render maps p and writes the warnings and the YAML, or the errors.
func render(t *testing.T, p *manifest.Project, opts Options) string {
	t.Helper()
	objs, warnings, err := Map(p, opts)
	var b strings.Builder
	if err != nil {
		var me *manifest.Error
		if !errors.As(err, &me) {
			t.Fatalf("error %v holds no *manifest.Error", err)
		}
		b.WriteString("# refused\n" + err.Error() + "\n")
		return b.String()
	}
	b.WriteString("# warnings\n")
	resources := make([]string, 0, len(warnings))
	for r := range warnings {
		resources = append(resources, r)
	}
	sort.Strings(resources)
	for _, r := range resources {
		for _, w := range warnings[r] {
			b.WriteString(r + ": " + w + "\n")
		}
	}
	y, err := objs.YAML()
	if err != nil {
		t.Fatal(err)
	}
	b.WriteString("# objects\n")
	b.Write(y)
	return b.String()
}

// diffLines shows the first differing line of want and got, with context.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n  want: " + wl + "\n  got:  " + gl
		}
	}
	return "(same lines)"
}

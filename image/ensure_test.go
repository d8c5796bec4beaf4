package image

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
)

// Settings errors are found before any engine call (the fake fails every
// call without a hook, and none is set).
func TestEnsureValidatesBeforeTouchingTheEngine(t *testing.T) {
	tests := []struct {
		name     string
		compose  string
		services []string
		want     []string
	}{
		{"pull_policy build without build", "services:\n  db:\n    image: redis:7-alpine\n    pull_policy: build\n", nil,
			[]string{`service "db"`, "pull_policy: build needs a build section"}},
		{"secrets on the classic builder", "services:\n  web:\n    build:\n      context: ./web\n      secrets: [tok]\nsecrets:\n  tok:\n    file: ./web/Dockerfile\n", nil,
			[]string{`service "web"`, "build.secrets", "classic builder"}},
		{"remote context", "services:\n  web:\n    build: https://github.com/example/web.git\n", nil,
			[]string{`service "web"`, "build.context (a remote context)"}},
		{"missing Dockerfile", "services:\n  web:\n    build:\n      context: ./web\n      dockerfile: Nope.Dockerfile\n", nil,
			[]string{`service "web"`, "Nope.Dockerfile", "build.dockerfile"}},
		{"unknown service", "services:\n  web:\n    build: ./web\n", []string{"wbe"},
			[]string{`no service "wbe"`, "services: web"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := load(t, map[string]string{"compose.yaml": tt.compose, "web/Dockerfile": "FROM scratch\n"})
			_, err := newFakeBuilder(t, &fakeClient{}).Ensure(t.Context(), p, tt.services, EnsureOptions{})
			if err == nil {
				t.Fatal("Ensure succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// No more builds run at once than the bound: four builds with a bound of two
// meet in pairs at a barrier that needs two arrivals.
func TestEnsureBoundsParallelBuilds(t *testing.T) {
	files := map[string]string{"compose.yaml": "services:\n"}
	for _, s := range []string{"a", "b", "c", "d"} {
		files["compose.yaml"] += "  " + s + ":\n    build: ./" + s + "\n"
		files[s+"/Dockerfile"] = "FROM scratch\nCOPY . /\n"
	}
	var (
		mu       sync.Mutex
		inFlight int
		most     int
		arrived  int
		release  = make(chan struct{}, 4)
	)
	f := &fakeClient{build: func(o build.ImageBuildOptions) (string, error) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		arrived++
		if arrived%2 == 0 {
			release <- struct{}{}
			release <- struct{}{}
		}
		mu.Unlock()
		select {
		case <-release:
		case <-time.After(10 * time.Second):
			return "", errors.New("no partner build arrived: fewer than two builds ran at once")
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
		return "sha256:" + o.Tags[0], nil
	}}
	ids, err := newFakeBuilder(t, f, WithParallelism(2)).Ensure(t.Context(), load(t, files), nil, EnsureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if most != 2 || len(ids) != 4 || ids["c"] != "sha256:p-c" {
		t.Fatalf("at most %d builds at once (want 2), ids %v", most, ids)
	}
}

// A failed base build skips the services built FROM it without repeating
// the failure, and lets an independent build finish.
func TestEnsureSkipsDependentsOfFailedBuild(t *testing.T) {
	p := load(t, map[string]string{
		"compose.yaml":     "services:\n  base:\n    build: ./base\n  app:\n    build: ./app\n  other:\n    build: ./other\n",
		"base/Dockerfile":  "FROM scratch\n",
		"app/Dockerfile":   "FROM p-base\n",
		"other/Dockerfile": "FROM scratch\n",
	})
	var (
		mu    sync.Mutex
		built []string
	)
	f := &fakeClient{build: func(o build.ImageBuildOptions) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		built = append(built, o.Tags[0])
		if o.Tags[0] == "p-base" {
			return "", errors.New("The command '/bin/sh -c make' returned a non-zero code: 2")
		}
		return "sha256:" + o.Tags[0], nil
	}}
	ids, err := newFakeBuilder(t, f).Ensure(t.Context(), p, nil, EnsureOptions{})
	if !errors.Is(err, ErrBuildFailed) {
		t.Fatalf("Ensure: %v, want ErrBuildFailed", err)
	}
	if strings.Count(err.Error(), "non-zero code") != 1 || strings.Contains(err.Error(), `"app"`) {
		t.Errorf("want the base failure once and nothing about app:\n%v", err)
	}
	if ids["other"] != "sha256:p-other" || ids["app"] != "" {
		t.Errorf("ids %v: want other built and app skipped (builds %v)", ids, built)
	}
}

// FROM cycles between services are refused before anything is built.
func TestEnsureRefusesBaseImageCycles(t *testing.T) {
	p := load(t, map[string]string{
		"compose.yaml": "services:\n  a:\n    build: ./a\n  b:\n    build: ./b\n",
		"a/Dockerfile": "FROM p-b\n",
		"b/Dockerfile": "FROM p-a\n",
	})
	_, err := newFakeBuilder(t, &fakeClient{}).Ensure(t.Context(), p, nil, EnsureOptions{})
	if err == nil || !strings.Contains(err.Error(), "build FROM each other's images") {
		t.Fatalf("Ensure: %v, want a cycle error", err)
	}
}

// --no-build with a built image missing: an image named <project>-<service>
// exists only through a build, so no registry is asked.
func TestEnsureNoBuildDoesNotPullBuildOnlyNames(t *testing.T) {
	p := load(t, map[string]string{"compose.yaml": "services:\n  web:\n    build: ./web\n", "web/Dockerfile": "FROM scratch\n"})
	f := &fakeClient{pull: func(ref string) error {
		t.Errorf("pulled %s", ref)
		return nil
	}}
	_, err := newFakeBuilder(t, f).Ensure(t.Context(), p, nil, EnsureOptions{Build: BuildNever})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "p-web") || !strings.Contains(err.Error(), "--no-build") {
		t.Fatalf("Ensure: %v, want ErrNotFound naming p-web and --no-build", err)
	}
}

// A service running the image another service builds waits for that build
// and is never pulled.
func TestEnsureSharesBuiltImages(t *testing.T) {
	p := load(t, map[string]string{
		"compose.yaml":   "services:\n  web:\n    image: shop/web:dev\n    build: ./web\n  worker:\n    image: shop/web:dev\n    command: work\n",
		"web/Dockerfile": "FROM scratch\n",
	})
	f := &fakeClient{
		build: func(build.ImageBuildOptions) (string, error) { return "sha256:built", nil },
		pull: func(ref string) error {
			t.Errorf("pulled %s", ref)
			return nil
		},
	}
	ids, err := newFakeBuilder(t, f).Ensure(t.Context(), p, nil, EnsureOptions{})
	if err != nil || ids["web"] != "sha256:built" || ids["worker"] != "sha256:built" {
		t.Fatalf("Ensure = %v, %v; want both services on the built image", ids, err)
	}
}

// A failing step's error keeps the step line and the end of its output.
func TestBuildErrorKeepsTheEndOfTheStep(t *testing.T) {
	p := load(t, map[string]string{"compose.yaml": "services:\n  web:\n    build: ./web\n", "web/Dockerfile": "FROM scratch\n"})
	f := &fakeClient{build: func(build.ImageBuildOptions) (string, error) { return "", errors.New("returned a non-zero code: 1") }}
	f.stream = func() []string {
		lines := []string{"Step 1/2 : FROM scratch", "Step 2/2 : RUN make"}
		for i := range 200 {
			lines = append(lines, fmt.Sprintf("output %d", i))
		}
		return lines
	}
	_, err := newFakeBuilder(t, f).Ensure(t.Context(), p, nil, EnsureOptions{})
	var be *BuildError
	if !errors.As(err, &be) {
		t.Fatalf("Ensure: %v, want a BuildError", err)
	}
	if len(be.Output) != maxStepLines || be.Output[0] != "Step 2/2 : RUN make" || be.Output[len(be.Output)-1] != "output 199" {
		t.Fatalf("kept %d lines from %q to %q", len(be.Output), be.Output[0], be.Output[len(be.Output)-1])
	}
}

// A dry run (stack plan) builds and pulls nothing: a missing built image and
// a missing pulled one both come back unknown (""), a present one with its ID.
func TestEnsureDryRunBuildsAndPullsNothing(t *testing.T) {
	p := load(t, map[string]string{
		"compose.yaml":   "services:\n  web:\n    build: ./web\n  cache:\n    image: redis:7\n  db:\n    image: postgres:16\n",
		"web/Dockerfile": "FROM scratch\n",
	})
	f := &fakeClient{
		inspect: func(ref string) (image.InspectResponse, error) {
			if ref == "postgres:16" {
				return image.InspectResponse{ID: "sha256:pg"}, nil
			}
			return image.InspectResponse{}, cerrdefs.ErrNotFound
		},
		// build and pull are nil: any call fails the Ensure.
	}
	ids, err := newFakeBuilder(t, f).Ensure(t.Context(), p, nil, EnsureOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"web": "", "cache": "", "db": "sha256:pg"}
	for svc, id := range want {
		if got, ok := ids[svc]; !ok || got != id {
			t.Errorf("ids[%s] = %q (present %v), want %q", svc, got, ok, id)
		}
	}
}

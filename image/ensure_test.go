package image

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
	bkclient "github.com/moby/buildkit/client"
)

// Settings errors are found before any engine call (the fake fails every
// call without a hook, and none is set), each naming the service and field:
// what no builder takes, what the engine's BuildKit (v0.8, engine 20.10)
// cannot do, and what its classic builder cannot.
func TestEnsureValidatesBeforeTouchingTheEngine(t *testing.T) {
	const secret = "secrets:\n  tok:\n    file: ./web/Dockerfile\n"
	tests := []struct {
		name     string
		compose  string
		services []string
		classic  bool
		want     []string
	}{
		{"pull_policy build without build", "services:\n  db:\n    image: redis:7-alpine\n    pull_policy: build\n", nil, false,
			[]string{`service "db"`, "pull_policy: build needs a build section"}},
		{"secrets on the classic builder", "services:\n  web:\n    build:\n      context: ./web\n      secrets: [tok]\n" + secret, nil, true,
			[]string{`service "web"`, "build.secrets", "classic builder"}},
		{"ssh on the classic builder", "services:\n  web:\n    build:\n      context: ./web\n      x-ssh: default=\n", nil, true,
			[]string{`service "web"`, "build.ssh", "classic builder"}},
		{"secret from an unset variable", "services:\n  web:\n    build:\n      context: ./web\n      secrets: [tok]\nsecrets:\n  tok:\n    environment: STACK_NO_SUCH_VARIABLE\n", nil, false,
			[]string{`service "web"`, "build.secrets", "STACK_NO_SUCH_VARIABLE is not set"}},
		{"secret file missing", "services:\n  web:\n    build:\n      context: ./web\n      secrets: [tok]\nsecrets:\n  tok:\n    file: ./nope.txt\n", nil, false,
			[]string{`service "web"`, "build.secrets", "nope.txt"}},
		{"ssh key missing", "services:\n  web:\n    build:\n      context: ./web\n      x-ssh: deploy=./no-such-key\n", nil, false,
			[]string{`service "web"`, "build.ssh", "deploy", "no-such-key"}},
		{"custom build network", "services:\n  web:\n    build:\n      context: ./web\n      network: shop_backend\n", nil, false,
			[]string{`service "web"`, "build.network", "default, host or none"}},
		{"a platform the engine does not build", "services:\n  web:\n    build:\n      context: ./web\n      platforms: [linux/arm64]\n", nil, false,
			[]string{`service "web"`, "build.platforms", "linux/arm64", "linux/amd64, linux/386 only"}},
		{"two platforms outside containerd", "services:\n  web:\n    build:\n      context: ./web\n      platforms: [linux/amd64, linux/386]\n", nil, false,
			[]string{`service "web"`, "build.platforms", "one platform per tag"}},
		{"cache export on engine 20.10", "services:\n  web:\n    build:\n      context: ./web\n      cache_to: [\"type=local,dest=/tmp/c\"]\n", nil, false,
			[]string{`service "web"`, "build.cache_to", "type=local", "only inline"}},
		{"additional contexts on BuildKit v0.8", "services:\n  web:\n    build:\n      context: ./web\n      additional_contexts:\n        src: ./web\n", nil, false,
			[]string{`service "web"`, "build.additional_contexts", "v0.8"}},
		{"provenance outside containerd", "services:\n  web:\n    build:\n      context: ./web\n      provenance: \"true\"\n", nil, false,
			[]string{`service "web"`, "build.provenance"}},
		{"remote context", "services:\n  web:\n    build: https://github.com/example/web.git\n", nil, false,
			[]string{`service "web"`, "build.context: a remote context"}},
		{"missing Dockerfile", "services:\n  web:\n    build:\n      context: ./web\n      dockerfile: Nope.Dockerfile\n", nil, false,
			[]string{`service "web"`, "Nope.Dockerfile", "build.dockerfile"}},
		{"unknown service", "services:\n  web:\n    build: ./web\n", []string{"wbe"}, false,
			[]string{`no service "wbe"`, "services: web"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := load(t, map[string]string{"compose.yaml": tt.compose, "web/Dockerfile": "FROM scratch\n"})
			withSSH(p)
			agentSocket(t)
			b, bk := newFakeBuildKitBuilder(t, &fakeClient{})
			if tt.classic {
				b.bk, b.classic = nil, "DOCKER_BUILDKIT=0"
			}
			_, err := b.Ensure(t.Context(), p, tt.services, EnsureOptions{})
			if err == nil {
				t.Fatal("Ensure succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			if len(bk.solved) != 0 {
				t.Errorf("%d builds ran", len(bk.solved))
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
	f := &fakeClient{build: func(tag string) (string, error) {
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
		return "sha256:" + tag, nil
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
	f := &fakeClient{build: func(tag string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		built = append(built, tag)
		if tag == "p-base" {
			return "", errors.New("The command '/bin/sh -c make' returned a non-zero code: 2")
		}
		return "sha256:" + tag, nil
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
		build: func(string) (string, error) { return "sha256:built", nil },
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

// A failing step's error names the step and keeps the end of its output,
// on BuildKit (the failing vertex and its logs) as on the classic builder
// (the "Step N/M" line and what followed it).
func TestBuildErrorKeepsTheEndOfTheStep(t *testing.T) {
	var out strings.Builder
	for i := range 200 {
		fmt.Fprintf(&out, "output %d\n", i)
	}
	for _, builder := range []string{"buildkit", "classic"} {
		t.Run(builder, func(t *testing.T) {
			p := load(t, map[string]string{"compose.yaml": "services:\n  web:\n    build: ./web\n", "web/Dockerfile": "FROM scratch\n"})
			f := &fakeClient{build: func(string) (string, error) { return "", errors.New("returned a non-zero code: 1") }}
			b, bk := newFakeBuildKitBuilder(t, f)
			want := "[2/2] RUN make"
			if builder == "classic" {
				b.bk, b.classic, want = nil, "DOCKER_BUILDKIT=0", "Step 2/2 : RUN make"
				f.stream = func() []string {
					return append([]string{"Step 1/2 : FROM scratch", want}, strings.Split(strings.TrimSpace(out.String()), "\n")...)
				}
			}
			t0 := time.Now()
			bk.steps = []*bkclient.SolveStatus{
				{Vertexes: []*bkclient.Vertex{{Digest: "sha256:1", Name: "[1/2] FROM scratch", Started: &t0, Completed: &t0, Cached: true}, {Digest: "sha256:2", Name: want, Started: &t0}}},
				{Logs: []*bkclient.VertexLog{{Vertex: "sha256:2", Data: []byte(out.String())}}},
				{Vertexes: []*bkclient.Vertex{{Digest: "sha256:2", Name: want, Started: &t0, Completed: &t0, Error: "executor failed running [/bin/sh -c make]: exit code: 1"}}},
			}
			_, err := b.Ensure(t.Context(), p, nil, EnsureOptions{})
			var be *BuildError
			if !errors.As(err, &be) {
				t.Fatalf("Ensure: %v, want a BuildError", err)
			}
			if len(be.Output) != maxStepLines || be.Output[0] != want || be.Output[len(be.Output)-1] != "output 199" {
				t.Fatalf("kept %d lines from %q to %q", len(be.Output), be.Output[0], be.Output[len(be.Output)-1])
			}
			if builder == "buildkit" && !strings.Contains(be.Message, want+": executor failed running [/bin/sh -c make]: exit code: 1") {
				t.Errorf("message %q does not name the step and its failure", be.Message)
			}
		})
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

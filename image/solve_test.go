package image

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	bkclient "github.com/moby/buildkit/client"

	"github.com/stack-deploy/stack/progress"
)

// The compose build fields reach BuildKit as docker buildx passes them:
// frontend options, the moby exporter with every tag, entitlements, cache
// imports and exports, and a session with the secrets.
func TestBuildKitSolveOptions(t *testing.T) {
	p := load(t, map[string]string{
		"compose.yaml": `services:
  web:
    build:
      context: ./web
      dockerfile_inline: "FROM scratch\n"
      target: prod
      args: {V: "1"}
      labels: {com.example.team: web}
      extra_hosts: ["db.internal:10.1.2.3"]
      network: host
      no_cache: true
      pull: true
      cache_from: [r.example/web:cache, "type=registry,ref=r.example/web:cache2"]
      cache_to: [type=inline]
      platforms: [linux/amd64]
      secrets: [tok]
      tags: [r.example/web:1]
secrets:
  tok:
    file: ./tok.txt
`,
		"web/keep": "x",
		"tok.txt":  "s3cr3t",
	})
	f := &fakeClient{build: func(string) (string, error) { return "sha256:built", nil }}
	b, bk := newFakeBuildKitBuilder(t, f)
	ids, err := b.Ensure(t.Context(), p, nil, EnsureOptions{})
	if err != nil || ids["web"] != "sha256:built" {
		t.Fatalf("Ensure = %v, %v", ids, err)
	}
	if len(bk.solved) != 1 {
		t.Fatalf("%d solves, want 1", len(bk.solved))
	}
	opt := bk.solved[0]
	want := map[string]string{
		"filename": "Dockerfile", "target": "prod", "build-arg:V": "1", "label:com.example.team": "web",
		"add-hosts": "db.internal=10.1.2.3", "force-network-mode": "host", "no-cache": "",
		"image-resolve-mode": "pull", "platform": "linux/amd64",
	}
	for k, v := range want {
		if got, ok := opt.FrontendAttrs[k]; !ok || got != v {
			t.Errorf("frontend attr %s = %q (set %v), want %q", k, got, ok, v)
		}
	}
	if !strings.HasPrefix(opt.FrontendAttrs["label:"+InputsLabel], "sha256:") {
		t.Errorf("no inputs label: %v", opt.FrontendAttrs)
	}
	if opt.Frontend != "dockerfile.v0" || len(opt.Exports) != 1 || opt.Exports[0].Type != "moby" || opt.Exports[0].Attrs["name"] != "p-web,r.example/web:1" {
		t.Errorf("frontend %q, exports %+v", opt.Frontend, opt.Exports)
	}
	if !slices.Contains(opt.AllowedEntitlements, "network.host") {
		t.Errorf("entitlements %v lack network.host", opt.AllowedEntitlements)
	}
	imports := []bkclient.CacheOptionsEntry{{Type: "registry", Attrs: map[string]string{"ref": "r.example/web:cache"}}, {Type: "registry", Attrs: map[string]string{"ref": "r.example/web:cache2"}}}
	if !reflect.DeepEqual(opt.CacheImports, imports) || len(opt.CacheExports) != 1 || opt.CacheExports[0].Type != "inline" {
		t.Errorf("cache imports %+v, exports %+v", opt.CacheImports, opt.CacheExports)
	}
	if _, ok := opt.LocalMounts["context"]; !ok || opt.LocalMounts["dockerfile"] == nil {
		t.Errorf("local mounts %v lack the context or the Dockerfile", opt.LocalMounts)
	}
	if len(opt.Session) != 2 { // registry credentials and the secrets
		t.Errorf("%d session attachables, want 2", len(opt.Session))
	}
}

// Each step gives one event when it starts and one when it ends (cached,
// done with its duration, or failed with its error); the build's secret
// values are blanked in what a step printed and in its error.
func TestStepEvents(t *testing.T) {
	rec := &progress.Recorder{}
	r := newStepReporter(progress.WithSink(t.Context(), rec), "image:web", map[string][]byte{"tok": []byte("s3cr3t")})
	t0 := time.Now()
	t1, t2 := t0.Add(1500*time.Millisecond), t0.Add(2*time.Second)
	from := &bkclient.Vertex{Digest: "sha256:1", Name: "[1/3] FROM busybox", Started: &t0, Completed: &t0, Cached: true}
	run := &bkclient.Vertex{Digest: "sha256:2", Name: "[2/3] RUN make \\\n    all", Started: &t0}
	for _, s := range []*bkclient.SolveStatus{
		{Vertexes: []*bkclient.Vertex{from, run}},
		{Vertexes: []*bkclient.Vertex{run}}, // repeated: no second event
		{Vertexes: []*bkclient.Vertex{{Digest: "sha256:2", Name: run.Name, Started: &t0, Completed: &t1}}},
		{Vertexes: []*bkclient.Vertex{{Digest: "sha256:3", Name: "[3/3] RUN test", Started: &t1}}},
		{Logs: []*bkclient.VertexLog{{Vertex: "sha256:3", Data: []byte("token s3cr3t\nwrong\n")}}},
		{Vertexes: []*bkclient.Vertex{{Digest: "sha256:3", Name: "[3/3] RUN test", Started: &t1, Completed: &t2, Error: "exit code: 1 (s3cr3t)"}}},
	} {
		r.update(s)
	}
	var got []string
	for _, e := range rec.Events() {
		line := e.Resource + " " + e.Action + " " + string(e.Status) + " " + e.Message
		if e.Err != nil {
			line += " (" + e.Err.Error() + ")"
		}
		got = append(got, line)
	}
	want := []string{
		"image:web step done [1/3] FROM busybox: cached",
		"image:web step working [2/3] RUN make \\ all: started",
		"image:web step done [2/3] RUN make \\ all: done in 1.5s",
		"image:web step working [3/3] RUN test: started",
		"image:web step failed [3/3] RUN test: failed after 500ms (exit code: 1 (****))",
	}
	if !slices.Equal(got, want) {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	err := r.buildError(&buildJob{service: "web", image: "p-web"}, errors.New("failed to solve: rpc error: code = Unknown desc = exit code: 1 (s3cr3t)"))
	var be *BuildError
	if !errors.As(err, &be) || be.Message != "[3/3] RUN test: exit code: 1 (****)" || !slices.Equal(be.Output, []string{"[3/3] RUN test", "token ****", "wrong"}) {
		t.Errorf("build error %q, output %q", be.Message, be.Output)
	}
}

func TestCacheEntries(t *testing.T) {
	tests := []struct {
		in   string
		want bkclient.CacheOptionsEntry
		err  string
	}{
		{"r.example/web:cache", bkclient.CacheOptionsEntry{Type: "registry", Attrs: map[string]string{"ref": "r.example/web:cache"}}, ""},
		{"type=local,src=/tmp/c", bkclient.CacheOptionsEntry{Type: "local", Attrs: map[string]string{"src": "/tmp/c"}}, ""},
		{"ref=r.example/web:cache,mode=max", bkclient.CacheOptionsEntry{Type: "registry", Attrs: map[string]string{"ref": "r.example/web:cache", "mode": "max"}}, ""},
		{"type=inline", bkclient.CacheOptionsEntry{Type: "inline", Attrs: map[string]string{}}, ""},
		{"mode=max", bkclient.CacheOptionsEntry{}, "no type"},
		{"type=local,src", bkclient.CacheOptionsEntry{}, "is not key=value"},
	}
	for _, tt := range tests {
		got, err := cacheEntries([]string{tt.in})
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: error %v, want %q", tt.in, err, tt.err)
		case tt.err == "" && (err != nil || !reflect.DeepEqual(got[0], tt.want)):
			t.Errorf("%s: %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestSyntaxOf(t *testing.T) {
	tests := []struct {
		name, dockerfile string
		args             map[string]string
		want             *syntaxDirective
	}{
		{"directive", "# syntax=docker/dockerfile:1.7\nFROM scratch\n", nil, &syntaxDirective{ref: "docker/dockerfile:1.7", line: 1}},
		{"after another directive", "# escape=`\n#syntax = r.example/df:1\nFROM scratch\n", nil, &syntaxDirective{ref: "r.example/df:1", line: 2}},
		{"after a comment: not a directive", "# build me\n# syntax=docker/dockerfile:1.7\nFROM scratch\n", nil, nil},
		{"after an instruction: a comment", "FROM scratch\n# syntax=docker/dockerfile:1.7\n", nil, nil},
		{"build arg", "# syntax=docker/dockerfile:1.7\nFROM scratch\n", map[string]string{"BUILDKIT_SYNTAX": "r.example/df:2"}, &syntaxDirective{ref: "r.example/df:2"}},
		{"none", "FROM scratch\n", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := syntaxOf([]byte(tt.dockerfile), tt.args); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("syntaxOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// On an engine whose BuildKit takes named contexts (v0.10 and later), each
// additional_contexts entry becomes a context:NAME frontend option: a
// directory served through the session, an image, or the image another
// service builds, which is then built first.
func TestBuildKitAdditionalContexts(t *testing.T) {
	p := load(t, map[string]string{
		"compose.yaml": `services:
  web:
    build:
      context: ./web
      additional_contexts:
        assets: ./assets
        tools: docker-image://busybox:stable
        base: service:base
  base:
    build: ./base
`,
		"web/Dockerfile":  "FROM scratch\n",
		"base/Dockerfile": "FROM scratch\n",
		"assets/a.txt":    "a",
	})
	var order []string
	f := &fakeClient{build: func(tag string) (string, error) { order = append(order, tag); return "sha256:" + tag, nil }}
	b, bk := newFakeBuildKitBuilder(t, f, WithParallelism(1))
	bk.version = "v0.12.5"
	if _, err := b.Ensure(t.Context(), p, nil, EnsureOptions{}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(order, []string{"p-base", "p-web"}) {
		t.Fatalf("build order %v, want base first", order)
	}
	opt := bk.solved[1]
	want := map[string]string{"context:assets": "local:stack-context-assets", "context:tools": "docker-image://busybox:stable", "context:base": "docker-image://p-base"}
	for k, v := range want {
		if opt.FrontendAttrs[k] != v {
			t.Errorf("%s = %q, want %q", k, opt.FrontendAttrs[k], v)
		}
	}
	if opt.LocalMounts["stack-context-assets"] == nil {
		t.Errorf("the assets directory is not served: %v", opt.LocalMounts)
	}
}

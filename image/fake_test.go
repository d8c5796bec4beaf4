package image

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	bkclient "github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/stack-deploy/stack/internal/e2e"
	"github.com/stack-deploy/stack/manifest"
)

// fakeClient is a Client for pure logic tests: every image is missing unless
// a test's hook says otherwise, and methods without a hook fail the call.
type fakeClient struct {
	Client
	build   func(tag string) (string, error) // the image ID, or the error the build ends with
	push    func(ref string) (string, error) // the digest, or the error the stream ends with
	inspect func(ref string) (image.InspectResponse, error)
	pull    func(ref string) error // the error the stream ends with
	// stream gives the output lines of a build; default: one Step line.
	stream func() []string
}

func (f *fakeClient) ImagePull(_ context.Context, ref string, _ image.PullOptions) (io.ReadCloser, error) {
	if f.pull == nil {
		return nil, errors.New("unexpected pull")
	}
	return stream(nil, f.pull(ref), map[string]string{}), nil
}

func (f *fakeClient) ImageBuild(_ context.Context, r io.Reader, o build.ImageBuildOptions) (build.ImageBuildResponse, error) {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return build.ImageBuildResponse{}, err
	}
	if f.build == nil {
		return build.ImageBuildResponse{}, errors.New("unexpected build")
	}
	id, msg := f.build(o.Tags[0])
	lines := []string{"Step 1/1 : FROM scratch"}
	if f.stream != nil {
		lines = f.stream()
	}
	return build.ImageBuildResponse{Body: stream(lines, msg, map[string]string{"ID": id})}, nil
}

func (f *fakeClient) ImagePush(_ context.Context, ref string, _ image.PushOptions) (io.ReadCloser, error) {
	if f.push == nil {
		return nil, errors.New("unexpected push")
	}
	digest, msg := f.push(ref)
	return stream(nil, msg, map[string]string{"Tag": "1", "Digest": digest}), nil
}

func (f *fakeClient) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (image.InspectResponse, error) {
	if f.inspect == nil {
		return image.InspectResponse{}, fmt.Errorf("image %s: %w", ref, cerrdefs.ErrNotFound)
	}
	return f.inspect(ref)
}

// fakeBuildKit is a BuildKit for pure logic tests, with the workers of
// engine 20.10 (BuildKit v0.8: no Info call). Solve calls the fakeClient's
// build hook with the first tag exported and sends steps on the status
// channel; every SolveOpt is kept.
type fakeBuildKit struct {
	BuildKit
	f       *fakeClient
	version string
	steps   []*bkclient.SolveStatus

	mu     sync.Mutex
	solved []bkclient.SolveOpt
}

func (k *fakeBuildKit) Solve(_ context.Context, _ *llb.Definition, opt bkclient.SolveOpt, ch chan *bkclient.SolveStatus) (*bkclient.SolveResponse, error) {
	defer close(ch)
	k.mu.Lock()
	k.solved = append(k.solved, opt)
	k.mu.Unlock()
	if k.f.build == nil {
		return nil, errors.New("unexpected build")
	}
	for _, s := range k.steps {
		ch <- s
	}
	tag, _, _ := strings.Cut(opt.Exports[0].Attrs["name"], ",")
	id, err := k.f.build(tag)
	if err != nil {
		return nil, err
	}
	return &bkclient.SolveResponse{ExporterResponse: map[string]string{"containerimage.digest": id}}, nil
}

func (k *fakeBuildKit) ListWorkers(context.Context, ...bkclient.ListWorkersOption) ([]*bkclient.WorkerInfo, error) {
	return []*bkclient.WorkerInfo{{ID: "moby", Platforms: []ocispecs.Platform{{OS: "linux", Architecture: "amd64"}, {OS: "linux", Architecture: "386"}}}}, nil
}

func (k *fakeBuildKit) Info(context.Context) (*bkclient.Info, error) {
	if k.version == "" {
		return nil, status.Error(codes.Unimplemented, "unknown method Info")
	}
	return &bkclient.Info{BuildkitVersion: bkclient.BuildkitVersion{Version: k.version}}, nil
}

// stream encodes an engine message stream of output lines that ends with
// errMsg when it is not nil, else with aux.
func stream(lines []string, errMsg error, aux map[string]string) io.ReadCloser {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, l := range lines {
		_ = enc.Encode(map[string]string{"stream": l + "\n"})
	}
	if errMsg != nil {
		_ = enc.Encode(map[string]any{"errorDetail": map[string]string{"message": errMsg.Error()}})
	} else {
		_ = enc.Encode(map[string]any{"aux": aux})
	}
	return io.NopCloser(&buf)
}

// load writes files into a new directory and loads its compose.yaml.
func load(t *testing.T, files map[string]string) *manifest.Project {
	t.Helper()
	dir := t.TempDir()
	e2e.WriteFiles(t, dir, files)
	p, err := manifest.Load(t.Context(), manifest.Options{Files: []string{filepath.Join(dir, "compose.yaml")}, ProjectName: "p", Env: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// newFakeBuilder builds through a fakeBuildKit (returned for assertions);
// a test of the classic builder sets classic on the Builder.
func newFakeBuilder(t *testing.T, f *fakeClient, opts ...Option) *Builder {
	b, _ := newFakeBuildKitBuilder(t, f, opts...)
	return b
}

func newFakeBuildKitBuilder(t *testing.T, f *fakeClient, opts ...Option) (*Builder, *fakeBuildKit) {
	t.Helper()
	bk := &fakeBuildKit{f: f}
	b, err := New(append([]Option{WithClient(f), WithBuildKit(bk)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	b.checkPush = func(string) error { return nil }
	return b, bk
}

// withSSH sets each service's build.ssh from its build's x-ssh extension
// (ID=PATH). The manifest cannot load build.ssh yet: its consistency check
// re-decodes the model without compose-go's canonical form, and the list
// compose-go writes for ssh fails to decode.
func withSSH(p *manifest.Project) {
	for name, s := range p.Project.Services {
		if s.Build == nil {
			continue
		}
		v, ok := s.Build.Extensions["x-ssh"].(string)
		if !ok {
			continue
		}
		id, path, _ := strings.Cut(v, "=")
		if path != "" && !filepath.IsAbs(path) {
			path = filepath.Join(p.WorkingDir, path)
		}
		bc := *s.Build
		bc.SSH = types.SSHConfig{{ID: id, Path: path}}
		s.Build = &bc
		p.Project.Services[name] = s
	}
}

// agentSocket listens on a unix socket and names it in SSH_AUTH_SOCK: an
// ssh agent as far as finding one goes.
func agentSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	t.Setenv("SSH_AUTH_SOCK", sock)
}

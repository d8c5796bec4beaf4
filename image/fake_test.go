package image

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/stack-deploy/stack/internal/e2e"
	"github.com/stack-deploy/stack/manifest"
)

// fakeClient is a Client for pure logic tests: every image is missing unless
// a test's hook says otherwise, and methods without a hook fail the call.
type fakeClient struct {
	Client
	build   func(o build.ImageBuildOptions) (string, error) // the image ID, or the error the stream ends with
	push    func(ref string) (string, error)                // the digest, or the error the stream ends with
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
	id, msg := f.build(o)
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

func newFakeBuilder(t *testing.T, f *fakeClient, opts ...Option) *Builder {
	t.Helper()
	b, err := New(append([]Option{WithClient(f)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	b.checkPush = func(string) error { return nil }
	return b
}

package docker

import (
	"context"
	"reflect"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

// digestClient gives each image ID its RepoDigests.
type digestClient struct {
	*fakeClient
	digests  map[string][]string
	inspects int
}

func (f *digestClient) ImageInspect(_ context.Context, id string, _ ...client.ImageInspectOption) (image.InspectResponse, error) {
	f.inspects++
	ds, ok := f.digests[id]
	if !ok {
		return image.InspectResponse{}, cerrdefs.ErrNotFound
	}
	return image.InspectResponse{ID: id, RepoDigests: ds}, nil
}

// RunningImages gives, per service, the digests of each service
// container's image, one-offs and other projects left out, each image
// inspected once.
func TestRunningImages(t *testing.T) {
	ctr := func(project, svc, image string, labels ...string) container.Summary {
		l := map[string]string{"io.stack.project": project, "io.stack.service": svc}
		for i := 0; i+1 < len(labels); i += 2 {
			l[labels[i]] = labels[i+1]
		}
		return container.Summary{ImageID: image, Labels: l}
	}
	f := &digestClient{fakeClient: &fakeClient{containers: []container.Summary{
		ctr("shop", "web", "id-web"), ctr("shop", "web", "id-old"), ctr("shop", "web", "id-web"),
		ctr("shop", "cache", "id-cache"), ctr("shop", "web", "id-debug", "io.stack.oneoff", "true"),
		ctr("other", "web", "id-other"),
		// the containerd image store: an image ID its inspect does not
		// resolve, created from a digest reference
		{ImageID: "sha256:0f", Image: "r/worker@sha256:c", Labels: map[string]string{"io.stack.project": "shop", "io.stack.service": "worker"}},
	}}, digests: map[string][]string{"id-web": {"r/web@sha256:a"}, "id-old": {"r/web@sha256:b"}, "id-cache": {"r/cache@sha256:a"}}}
	d := &Driver{client: f}
	got, err := d.RunningImages(t.Context(), "shop")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][][]string{"web": {{"r/web@sha256:a"}, {"r/web@sha256:b"}, {"r/web@sha256:a"}}, "cache": {{"r/cache@sha256:a"}}, "worker": {{"r/worker@sha256:c"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RunningImages = %v, want %v", got, want)
	}
	if f.inspects != 4 {
		t.Errorf("%d image inspects, want one per distinct image (4)", f.inspects)
	}
}

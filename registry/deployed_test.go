package registry

import (
	"context"
	"testing"

	"github.com/docker/docker/api/types/container"
	dockerimage "github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
)

type fakeEngine struct {
	EngineReader
	containers []container.Summary
	images     map[string][]string
	inspects   int
}

func (f *fakeEngine) ContainerList(context.Context, container.ListOptions) ([]container.Summary, error) {
	return f.containers, nil
}

func (f *fakeEngine) ImageInspect(_ context.Context, id string, _ ...client.ImageInspectOption) (dockerimage.InspectResponse, error) {
	f.inspects++
	return dockerimage.InspectResponse{ID: id, RepoDigests: f.images[id]}, nil
}

func TestDeployedRunsLock(t *testing.T) {
	web, webOld, cache := "r.example/shop/web@"+digestA, "r.example/shop/web@"+digestB, "r.example/shop/cache@"+digestA
	ctr := func(svc, image string, labels ...string) container.Summary {
		l := map[string]string{"io.stack.project": "shop", "io.stack.service": svc}
		for i := 0; i+1 < len(labels); i += 2 {
			l[labels[i]] = labels[i+1]
		}
		return container.Summary{ImageID: image, Labels: l}
	}
	lock := &Lock{Services: map[string]ServiceImage{"web": {Image: web}, "cache": {Image: cache}}}
	images := map[string][]string{"id-web": {web, "other.example/web@" + digestA}, "id-old": {webOld}, "id-cache": {cache}}
	tests := []struct {
		name       string
		containers []container.Summary
		want       bool
	}{
		{"runs it", []container.Summary{ctr("web", "id-web"), ctr("web", "id-web"), ctr("cache", "id-cache")}, true},
		{"one replica runs an older image", []container.Summary{ctr("web", "id-web"), ctr("web", "id-old"), ctr("cache", "id-cache")}, false},
		{"a service not in the lock runs", []container.Summary{ctr("web", "id-web"), ctr("extra", "id-cache")}, false},
		{"one-off containers do not count", []container.Summary{ctr("web", "id-web"), ctr("web", "id-old", "io.stack.oneoff", "true")}, true},
		{"nothing runs", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeEngine{containers: tt.containers, images: images}
			r, err := Deployed(t.Context(), f, "shop")
			if err != nil {
				t.Fatal(err)
			}
			if got := r.RunsLock(lock); got != tt.want {
				t.Errorf("RunsLock = %v, want %v (running %v)", got, tt.want, r)
			}
			if f.inspects > len(images) {
				t.Errorf("%d image inspects for %d distinct images", f.inspects, len(images))
			}
		})
	}
}

// The engine writes Docker Hub repositories short, a lock in full: the same
// image all the same.
func TestRunsLockDockerHubNames(t *testing.T) {
	lock := &Lock{Services: map[string]ServiceImage{"web": {Image: "index.docker.io/shop/web@" + digestA}}}
	for short, want := range map[string]bool{"shop/web@" + digestA: true, "docker.io/shop/web@" + digestA: true, "shop/web@" + digestB: false, "shop/api@" + digestA: false} {
		if got := (Running{"web": {{short}}}).RunsLock(lock); got != want {
			t.Errorf("running %s: RunsLock = %v, want %v", short, got, want)
		}
	}
}

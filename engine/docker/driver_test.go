package docker

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/stack-deploy/stack/engine"
)

// fakeClient answers reads from fixed state and records every call; it
// embeds Client, so a call it does not implement panics.
type fakeClient struct {
	Client
	mu         sync.Mutex
	calls      []string
	containers []container.Summary
	networks   []network.Summary
	volumes    []*volume.Volume
}

func (f *fakeClient) record(call string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
}

func (f *fakeClient) ClientVersion() string                 { return "1.41" }
func (f *fakeClient) NegotiateAPIVersion(_ context.Context) {}

// ContainerList honours the label filters ("key=value"), as the engine does.
func (f *fakeClient) ContainerList(_ context.Context, o container.ListOptions) ([]container.Summary, error) {
	f.record("ContainerList")
	var out []container.Summary
	for _, c := range f.containers {
		match := true
		for _, kv := range o.Filters.Get("label") {
			k, v, _ := strings.Cut(kv, "=")
			match = match && c.Labels[k] == v
		}
		if match {
			out = append(out, c)
		}
	}
	return out, nil
}

func (f *fakeClient) NetworkList(context.Context, network.ListOptions) ([]network.Summary, error) {
	f.record("NetworkList")
	return f.networks, nil
}

func (f *fakeClient) VolumeList(context.Context, volume.ListOptions) (volume.ListResponse, error) {
	f.record("VolumeList")
	return volume.ListResponse{Volumes: f.volumes}, nil
}

func (f *fakeClient) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (image.InspectResponse, error) {
	f.record("ImageInspect")
	return image.InspectResponse{ID: "sha256:" + ref}, nil
}

func (f *fakeClient) ContainerInspect(_ context.Context, id string) (container.InspectResponse, error) {
	f.record("ContainerInspect")
	for _, c := range f.containers {
		if c.ID == id {
			eps := map[string]*network.EndpointSettings{}
			for name, ep := range c.NetworkSettings.Networks {
				eps[name] = &network.EndpointSettings{NetworkID: ep.NetworkID, Aliases: ep.Aliases}
			}
			return container.InspectResponse{
				ContainerJSONBase: &container.ContainerJSONBase{ID: id},
				NetworkSettings:   &container.NetworkSettings{Networks: eps},
			}, nil
		}
	}
	// A container the test made: it runs.
	return container.InspectResponse{ContainerJSONBase: &container.ContainerJSONBase{
		ID: id, State: &container.State{Status: "running", Running: true},
	}}, nil
}

// Events gives a stream that says nothing until it is cancelled: the waits
// read the state first.
func (f *fakeClient) Events(ctx context.Context, _ events.ListOptions) (<-chan events.Message, <-chan error) {
	errs := make(chan error, 1)
	go func() { <-ctx.Done(); errs <- ctx.Err() }()
	return make(chan events.Message), errs
}

func (f *fakeClient) ContainerRename(_ context.Context, id, name string) error {
	f.record("ContainerRename " + id + " " + name)
	return nil
}

func (f *fakeClient) ContainerStop(_ context.Context, id string, _ container.StopOptions) error {
	f.record("ContainerStop " + id)
	return nil
}

func (f *fakeClient) ContainerRemove(_ context.Context, id string, _ container.RemoveOptions) error {
	f.record("ContainerRemove " + id)
	return nil
}

func (f *fakeClient) ContainerCreate(_ context.Context, _ *container.Config, _ *container.HostConfig, _ *network.NetworkingConfig, _ *ocispec.Platform, name string) (container.CreateResponse, error) {
	f.record("ContainerCreate " + name)
	return container.CreateResponse{ID: "id-" + name}, nil
}

func (f *fakeClient) ContainerStart(_ context.Context, id string, _ container.StartOptions) error {
	f.record("ContainerStart " + id)
	return nil
}

const twoServices = `
services:
  web:
    image: web:1
    environment: {MODE: ENV}
    depends_on: [db]
  db:
    image: db:1
    volumes: ["data:/data"]
volumes:
  data: {}
`

// deployedClient is a fake engine running twoServices as `up` left it.
func deployedClient(t *testing.T) *fakeClient {
	t.Helper()
	p := loadService(t, strings.Replace(twoServices, "ENV", "a", 1), "web")
	f := &fakeClient{
		networks: []network.Summary{{Name: "shop_default", ID: "n1", Labels: map[string]string{engine.LabelProject: "shop", engine.LabelNetwork: "default"}}},
		volumes:  []*volume.Volume{{Name: "shop_data", Labels: map[string]string{engine.LabelProject: "shop", engine.LabelVolume: "data"}}},
	}
	for _, name := range p.ServiceNames() {
		h, err := engine.ConfigHash(p.Project, p.Project.Services[name], "sha256:"+p.ImageName(name))
		if err != nil {
			t.Fatal(err)
		}
		f.containers = append(f.containers, container.Summary{
			ID: name + "-id", Names: []string{"/shop-" + name + "-1"}, State: "running", Status: "Up 2 minutes",
			Labels: map[string]string{
				engine.LabelProject: "shop", engine.LabelService: name, engine.LabelContainerNumber: "1",
				engine.LabelConfigHash: h.Sum, engine.LabelConfigParts: h.PartsLabel(),
			},
			NetworkSettings: &container.NetworkSettingsSummary{Networks: map[string]*network.EndpointSettings{
				"shop_default": {NetworkID: "n1", Aliases: []string{name}},
			}},
		})
	}
	return f
}

func up(t *testing.T, f *fakeClient, env string) {
	t.Helper()
	p := loadService(t, strings.Replace(twoServices, "ENV", env, 1), "web")
	d, err := New(WithClient(f))
	if err != nil {
		t.Fatal(err)
	}
	images := engine.Images{}
	for _, name := range p.ServiceNames() {
		images[name] = engine.Image{ID: "sha256:" + p.ImageName(name)}
	}
	obs, err := d.Observe(t.Context(), p)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := engine.Diff(p, images, obs, engine.DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Apply(t.Context(), d, plan, engine.ApplyOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestUpNothingChangedOnlyReads(t *testing.T) {
	f := deployedClient(t)
	up(t, f, "a")
	slices.Sort(f.calls)
	want := []string{"ContainerInspect", "ContainerInspect", "ContainerList", "ContainerList", "NetworkList", "VolumeList"}
	if !slices.Equal(f.calls, want) {
		t.Errorf("calls %v, want only the reads %v", f.calls, want)
	}
}

func TestUpEnvironmentChangeReplacesOnlyThatContainer(t *testing.T) {
	f := deployedClient(t)
	up(t, f, "b")
	var writes []string
	for _, c := range f.calls {
		if strings.Contains(c, " ") {
			writes = append(writes, c)
		}
	}
	// The new container exists before the old one stops, and takes its
	// name once the old one is gone.
	tmp := TemporaryName("shop-web-1", "")
	if len(writes) > 0 {
		tmp = strings.TrimPrefix(writes[0], "ContainerCreate ")
	}
	want := []string{"ContainerCreate " + tmp, "ContainerStop web-id", "ContainerStart " + tmp, "ContainerRemove web-id", "ContainerRename " + tmp + " shop-web-1"}
	if !slices.Equal(writes, want) || !strings.HasPrefix(tmp, "shop-web-1-") {
		t.Errorf("engine changes %v, want %v", writes, want)
	}
}

func TestCheckNamesTheFileServiceAndField(t *testing.T) {
	f := &fakeClient{}
	p := loadService(t, `
services:
  web:
    image: web:1
    restart: on-failure:often
`, "web")
	d, err := New(WithClient(f))
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Check(t.Context(), p, nil)
	if err == nil || !strings.Contains(err.Error(), `compose.yaml: service "web": restart "on-failure:often"`) {
		t.Fatalf("error %v, want one naming the file, the service and the field", err)
	}
	if len(f.calls) != 0 {
		t.Errorf("engine calls while checking: %v", f.calls)
	}
}

// TestObserveComposeProject: what Docker Compose created for the project is
// read as the project's, marked Compose's (its replicas by Compose's
// service and number labels, its one-offs apart); another project's is not.
func TestObserveComposeProject(t *testing.T) {
	compose := func(id, name, project, service, number, oneoff string) container.Summary {
		return container.Summary{ID: id, Names: []string{"/" + name}, State: "running", Labels: map[string]string{
			composeProject: project, composeService: service, composeContainerNumber: number, composeOneoff: oneoff,
			"com.docker.compose.config-hash": "abc",
		}}
	}
	f := &fakeClient{
		containers: []container.Summary{
			compose("w1", "shop-web-1", "shop", "web", "1", "False"),
			compose("r1", "shop-web-run-1a2b", "shop", "web", "", "True"),
			compose("x1", "other-web-1", "other", "web", "1", "False"),
		},
		networks: []network.Summary{{Name: "shop_default", ID: "n1", Labels: map[string]string{composeProject: "shop", composeNetwork: "default"}}},
		volumes: []*volume.Volume{
			{Name: "shop_data", Labels: map[string]string{composeProject: "shop", composeVolume: "data"}},
			{Name: "other_data", Labels: map[string]string{composeProject: "other", composeVolume: "data"}},
		},
	}
	d, err := New(WithClient(f))
	if err != nil {
		t.Fatal(err)
	}
	obs, err := d.Observe(t.Context(), loadService(t, twoServices, "web"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range obs.Driver.(*observedContainers).containers {
		got = append(got, fmt.Sprintf("%s %s #%d oneoff=%v compose=%v temporary=%v hash=%q", c.ID, c.Service, c.Number, c.OneOff, c.Compose, c.Temporary, c.Hash))
	}
	for _, r := range append(obs.Networks, obs.Volumes...) {
		got = append(got, fmt.Sprintf("%s key=%s compose=%v foreign=%v", r.Name, r.Key, r.Compose, r.Foreign))
	}
	want := []string{
		`w1 web #1 oneoff=false compose=true temporary=false hash=""`,
		`r1 web #0 oneoff=true compose=true temporary=false hash=""`,
		"shop_default key=default compose=true foreign=false",
		"shop_data key=data compose=true foreign=false",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("observed:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

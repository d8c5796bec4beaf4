package swarm

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"

	"github.com/stack-deploy/stack/engine"
)

// fakeClient answers list calls from fixed objects, and records the filters
// it was asked with.
type fakeClient struct {
	Client
	services []swarm.Service
	networks []network.Summary
	secrets  []swarm.Secret
	configs  []swarm.Config
	err      error
	filters  []string
}

func (f *fakeClient) ServiceList(_ context.Context, o swarm.ServiceListOptions) ([]swarm.Service, error) {
	f.filters = append(f.filters, "services "+o.Filters.Get("label")[0])
	if !o.Status {
		return nil, errors.New("asked without task counts")
	}
	return f.services, f.err
}

func (f *fakeClient) NetworkList(_ context.Context, o network.ListOptions) ([]network.Summary, error) {
	f.filters = append(f.filters, "networks scope="+o.Filters.Get("scope")[0])
	return f.networks, nil
}

func (f *fakeClient) SecretList(_ context.Context, o swarm.SecretListOptions) ([]swarm.Secret, error) {
	f.filters = append(f.filters, "secrets "+o.Filters.Get("label")[0])
	return f.secrets, nil
}

func (f *fakeClient) ConfigList(_ context.Context, o swarm.ConfigListOptions) ([]swarm.Config, error) {
	f.filters = append(f.filters, "configs "+o.Filters.Get("label")[0])
	return f.configs, nil
}

func TestObserve(t *testing.T) {
	three, one := uint64(3), uint64(1)
	labels := func(service, hash string) map[string]string {
		return map[string]string{engine.LabelProject: "shop", engine.LabelService: service, engine.LabelConfigHash: hash, engine.LabelConfigParts: "image=ab"}
	}
	f := &fakeClient{
		services: []swarm.Service{
			{
				ID: "s2", Meta: swarm.Meta{Version: swarm.Version{Index: 7}},
				Spec: swarm.ServiceSpec{
					Annotations:  swarm.Annotations{Name: "shop_web", Labels: labels("web", "h-web")},
					TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "reg/web@sha256:1"}},
					Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &three}},
				},
				ServiceStatus: &swarm.ServiceStatus{RunningTasks: 2, DesiredTasks: 3},
				UpdateStatus:  &swarm.UpdateStatus{State: swarm.UpdateStateRollbackCompleted, Message: "rollback completed"},
			},
			{
				ID:            "s1",
				Spec:          swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "shop_migrate", Labels: labels("migrate", "h-m")}, Mode: swarm.ServiceMode{ReplicatedJob: &swarm.ReplicatedJob{TotalCompletions: &one}}},
				ServiceStatus: &swarm.ServiceStatus{CompletedTasks: 1},
			},
			{ID: "s3", Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "shop_agent", Labels: labels("agent", "h-a")}, Mode: swarm.ServiceMode{Global: &swarm.GlobalService{}}}},
		},
		networks: []network.Summary{
			{ID: "n1", Name: "shop_default", Driver: "overlay", Labels: map[string]string{engine.LabelProject: "shop", engine.LabelNetwork: "default", engine.LabelConfigHash: "h-n"}},
			{ID: "n2", Name: "shop_back", Driver: "overlay"},
		},
		secrets: []swarm.Secret{{ID: "x1", Spec: swarm.SecretSpec{Annotations: swarm.Annotations{Name: "shop_token-abc", Labels: map[string]string{LabelSecret: "token"}}}}},
		configs: []swarm.Config{{ID: "c1", Spec: swarm.ConfigSpec{Annotations: swarm.Annotations{Name: "shop_conf-def", Labels: map[string]string{LabelConfig: "conf"}}}}},
	}
	got, err := Observe(t.Context(), f, "shop")
	if err != nil {
		t.Fatal(err)
	}
	want := &Observed{
		Services: []ObservedService{
			{ID: "s3", Name: "shop_agent", Service: "agent", Hash: "h-a", Parts: "image=ab", Mode: "global"},
			{ID: "s1", Name: "shop_migrate", Service: "migrate", Hash: "h-m", Parts: "image=ab", Mode: "replicated-job", Replicas: &one, Completed: 1},
			{ID: "s2", Name: "shop_web", Service: "web", Version: 7, Hash: "h-web", Parts: "image=ab", Image: "reg/web@sha256:1", Mode: "replicated", Replicas: &three,
				Running: 2, Desired: 3, UpdateState: "rollback_completed", UpdateMessage: "rollback completed"},
		},
		Networks: []ObservedNetwork{{ID: "n1", Name: "shop_default", Key: "default", Hash: "h-n", Driver: "overlay"}},
		Others:   []ObservedNetwork{{ID: "n2", Name: "shop_back", Driver: "overlay"}},
		Secrets:  []ObservedObject{{ID: "x1", Name: "shop_token-abc", Key: "token"}},
		Configs:  []ObservedObject{{ID: "c1", Name: "shop_conf-def", Key: "conf"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	wantFilters := []string{"services io.stack.project=shop", "networks scope=swarm", "secrets io.stack.project=shop", "configs io.stack.project=shop"}
	if !reflect.DeepEqual(f.filters, wantFilters) {
		t.Errorf("filters %v, want %v", f.filters, wantFilters)
	}
}

func TestObserveWrapsErrors(t *testing.T) {
	boom := errors.New("manager down")
	_, err := Observe(t.Context(), &fakeClient{err: boom}, "shop")
	if !errors.Is(err, boom) || err.Error() != `listing the services of "shop": manager down` {
		t.Errorf("got %v", err)
	}
}

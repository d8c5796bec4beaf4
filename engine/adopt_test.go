package engine_test

import (
	"strings"
	"testing"

	"github.com/stack-deploy/stack/engine"
)

// asCompose makes obs what Docker Compose leaves: every service, network
// and volume Compose's, without stack's hashes.
func asCompose(obs *engine.Observed) *engine.Observed {
	for i := range obs.Services {
		byCompose(&obs.Services[i])
	}
	for _, rs := range [][]engine.Resource{obs.Networks, obs.Volumes} {
		for i := range rs {
			rs[i].Compose, rs[i].Hash = true, ""
		}
	}
	return obs
}

// byCompose makes s a service Docker Compose made.
func byCompose(s *engine.ServiceState) {
	s.Foreign = "created by Docker Compose"
	for i := range s.Versions {
		s.Versions[i].Hash, s.Versions[i].Parts = "", ""
	}
}

// foreign is a network or volume named as the project's that nobody
// labelled: made by hand.
func foreign(key, name string) engine.Resource {
	return engine.Resource{Key: key, Name: name, ID: name + "-id", Foreign: true}
}

// TestDiffAdoption: a network or volume of the project's name that stack
// did not create is adopted with a warning once; once stack's containers
// use it, the plan says unchanged. Docker Compose's resources of the
// project are adopted the same way, and its containers replaced.
func TestDiffAdoption(t *testing.T) {
	tests := []struct {
		name string
		obs  func(t *testing.T) *engine.Observed
		opts engine.DiffOptions
		want string
	}{
		{
			name: "a volume made by hand, nothing deployed",
			obs: func(*testing.T) *engine.Observed {
				return &engine.Observed{Volumes: []engine.Resource{foreign("data", "shop_data")}}
			},
			want: `
network:default  create  new network
volume:data      adopt   volume "shop_data" exists but was not created by stack: it is used as it is (declare it external: true to say so)
service:redis    create  new service
service:app      create  new service
`,
		},
		{
			name: "a volume made by hand that stack's containers use",
			obs: func(t *testing.T) *engine.Observed {
				obs := deployed(t, seed, seedImages)
				obs.Volumes = []engine.Resource{foreign("data", "shop_data")}
				return obs
			},
			want: `
network:default  unchanged
volume:data      unchanged  adopted: not created by stack
service:redis    unchanged
service:app      unchanged
`,
		},
		{
			name: "a network made by hand",
			obs: func(t *testing.T) *engine.Observed {
				return &engine.Observed{Networks: []engine.Resource{foreign("default", "shop_default")}}
			},
			want: `
network:default  adopt   network "shop_default" exists but was not created by stack: it is used as it is (declare it external: true to say so)
volume:data      create  new volume
service:redis    create  new service
service:app      create  new service
`,
		},
		{
			name: "a project Docker Compose deployed",
			obs:  func(t *testing.T) *engine.Observed { return asCompose(deployed(t, seed, seedImages)) },
			want: `
network:default  adopt     network "shop_default" was created by Docker Compose: stack takes it over as it is
volume:data      adopt     volume "shop_data" was created by Docker Compose: stack takes it over as it is
service:redis    recreate  created by Docker Compose
service:app      recreate  created by Docker Compose
`,
		},
		{
			name: "a project Docker Compose deployed, --no-recreate",
			obs:  func(t *testing.T) *engine.Observed { return asCompose(deployed(t, seed, seedImages)) },
			opts: engine.DiffOptions{NoRecreate: true},
			want: `
network:default  adopt      network "shop_default" was created by Docker Compose: stack takes it over as it is
volume:data      adopt      volume "shop_data" was created by Docker Compose: stack takes it over as it is
service:redis    unchanged
service:app      unchanged
`,
		},
		{
			name: "after the take-over: stack's containers on Compose's network and volume",
			obs: func(t *testing.T) *engine.Observed {
				obs := deployed(t, seed, seedImages)
				asCompose(&engine.Observed{Networks: obs.Networks, Volumes: obs.Volumes})
				return obs
			},
			want: `
network:default  unchanged  adopted from Docker Compose
volume:data      unchanged  adopted from Docker Compose
service:redis    unchanged
service:app      unchanged
`,
		},
		{
			name: "half taken over: Compose's app still runs beside stack's redis",
			obs: func(t *testing.T) *engine.Observed {
				obs := deployed(t, seed, seedImages)
				asCompose(&engine.Observed{Networks: obs.Networks, Volumes: obs.Volumes})
				byCompose(obs.Service("app"))
				return obs
			},
			want: `
network:default  unchanged  adopted from Docker Compose
volume:data      unchanged  adopted from Docker Compose
service:redis    unchanged
service:app      recreate   created by Docker Compose
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := engine.Diff(load(t, seed), seedImages, tt.obs(t), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := plan.Text(), strings.TrimPrefix(tt.want, "\n"); got != want {
				t.Errorf("plan:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// TestDownAdopted: down -v removes what stack created or adopted (used by
// the project's containers) and what Docker Compose created for the
// project; a volume made by hand that no container of the project uses
// stays.
func TestDownAdopted(t *testing.T) {
	tests := []struct {
		name string
		obs  func(t *testing.T) *engine.Observed
		want string
	}{
		{
			name: "adopted volume in use is removed",
			obs: func(t *testing.T) *engine.Observed {
				obs := deployed(t, seed, seedImages)
				obs.Volumes = []engine.Resource{foreign("data", "shop_data")}
				return obs
			},
			want: `
service:app      remove
service:redis    remove
network:default  remove
volume:data      remove
`,
		},
		{
			name: "a volume made by hand that no container uses stays",
			obs: func(*testing.T) *engine.Observed {
				return &engine.Observed{Volumes: []engine.Resource{foreign("data", "shop_data")}}
			},
			want: "",
		},
		{
			name: "Compose's network and volume go even when no container uses them",
			obs: func(t *testing.T) *engine.Observed {
				obs := asCompose(deployed(t, seed, seedImages))
				obs.Services = nil
				return obs
			},
			want: `
network:default  remove
volume:data      remove
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := engine.Down(load(t, seed), tt.obs(t), engine.DownOptions{Volumes: true})
			if got, want := plan.Text(), strings.TrimPrefix(tt.want, "\n"); got != want {
				t.Errorf("plan:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

package docker

import (
	"strings"
	"testing"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/engine/enginetest"
)

// TestObservedStates: what the containers of a service are, summed up as
// its state, gives the service's action and reason, and the operations
// act on the containers concerned.
func TestObservedStates(t *testing.T) {
	p := enginetest.Load(t, "shop", opsSeed)
	scaled := enginetest.Load(t, "shop", strings.Replace(opsSeed, "image: app:1", "image: app:1\n    scale: 2", 1))
	tests := []struct {
		name  string
		p     func() *engine.Observed
		want  string // the plan's line for the service
		calls []string
	}{
		{name: "exited", want: "service:redis  start      exited with code 0", calls: []string{"start container:shop-redis-1"},
			p: mutate(t, func(cs []engine.Container) []engine.Container { cs[1].State = "exited"; return cs })},
		{name: "paused", want: "service:redis  start      paused", calls: []string{"unpause container:shop-redis-1"},
			p: mutate(t, func(cs []engine.Container) []engine.Container { cs[1].State = "paused"; return cs })},
		{name: "created", want: "service:redis  start      created, not running", calls: []string{"start container:shop-redis-1"},
			p: mutate(t, func(cs []engine.Container) []engine.Container { cs[1].State = "created"; return cs })},
		{name: "dead", want: "service:redis  recreate   container is dead", calls: []string{"create container:shop-redis-1-"},
			p: mutate(t, func(cs []engine.Container) []engine.Container { cs[1].State = "dead"; return cs })},
		{name: "disconnected", want: "service:app    repair     not connected to network shop_back", calls: []string{"connect container:shop-app-1 network:shop_back"},
			p: mutate(t, func(cs []engine.Container) []engine.Container { delete(cs[0].Networks, "shop_back"); return cs })},
		{name: "temporary name", want: "service:redis  repair     shop-redis-1-x takes the service's name", calls: []string{"rename container:shop-redis-1-x"},
			p: mutate(t, func(cs []engine.Container) []engine.Container {
				cs[1].Name, cs[1].Temporary = "shop-redis-1-x", true
				return cs
			})},
		{name: "leftover", want: "service:redis  repair     shop-redis-1-x is left from an interrupted replacement", calls: []string{"remove container:shop-redis-1-x"},
			p: mutate(t, func(cs []engine.Container) []engine.Container {
				l := cs[1]
				l.ID, l.Name, l.Temporary = "left", "shop-redis-1-x", true
				return append(cs, l)
			})},
		{name: "renumbered", want: "service:redis  repair     shop-redis-2 is replica 2 of 1", calls: []string{"create container:shop-redis-1", "remove container:shop-redis-2"},
			p: mutate(t, func(cs []engine.Container) []engine.Container {
				cs[1].Number, cs[1].Name = 2, "shop-redis-2"
				return cs
			})},
		{name: "mixed", want: "service:app    recreate   configuration changed; scale 1 -> 2", calls: []string{"create container:shop-app-1-", "create container:shop-app-2"},
			p: mutate(t, func(cs []engine.Container) []engine.Container { cs[0].Hash = "old"; return cs })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			desired := p
			if tt.name == "mixed" {
				desired = scaled
			}
			plan, err := engine.Diff(desired, opsImages, tt.p(), engine.DiffOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(squeeze(plan.Text()), strings.TrimSpace(squeeze(tt.want))+"\n") {
				t.Errorf("plan:\n%s\nwant the line %q", plan.Text(), tt.want)
			}
			d, err := New(WithClient(&fakeClient{}))
			if err != nil {
				t.Fatal(err)
			}
			g, err := d.Operations(plan)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, op := range g.Ops {
				ids = append(ids, op.ID)
			}
			all := strings.Join(ids, "\n")
			for _, c := range tt.calls {
				if !strings.Contains(all, c) {
					t.Errorf("no call %q in:\n%s", c, all)
				}
			}
		})
	}
}

// mutate is the observed state of opsSeed deployed, its containers (app's,
// then redis's) changed by change.
func mutate(t *testing.T, change func([]engine.Container) []engine.Container) func() *engine.Observed {
	return func() *engine.Observed {
		pp := enginetest.Load(t, "shop", opsSeed)
		cs := change(enginetest.Containers(t, pp, opsImages))
		d := enginetest.Deployed(t, pp, opsImages)
		obs := observed(pp, cs)
		obs.Networks, obs.Volumes = d.Networks, d.Volumes
		return obs
	}
}

// squeeze makes every run of spaces one, line by line.
func squeeze(text string) string {
	var b strings.Builder
	for _, line := range strings.Split(text, "\n") {
		b.WriteString(strings.Join(strings.Fields(line), " ") + "\n")
	}
	return b.String()
}

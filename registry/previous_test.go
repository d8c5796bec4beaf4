package registry_test

import (
	"errors"
	"testing"

	"github.com/stack-deploy/stack/registry"
)

func TestPreviousRelease(t *testing.T) {
	tests := []struct {
		name    string
		spec    map[string][]string
		running string
		want    string // tag, "" for ErrNoRollback
	}{
		{name: "the last deployed before the running one, verified or not",
			spec:    map[string][]string{"v1": {"d+@10", "v+@11"}, "v2": {"d+@20"}, "v3": {"d-@30"}},
			running: "v3", want: "v2"},
		{name: "a release that failed its checks ran before all the same",
			spec:    map[string][]string{"v1": {"d+@10", "v+@11"}, "v2": {"d+@20", "v-@21"}, "v3": {"d-@30"}},
			running: "v3", want: "v2"},
		{name: "a failed deploy never ran",
			spec:    map[string][]string{"v1": {"d+@10"}, "v2": {"d-@20"}, "v3": {"d-@30"}},
			running: "v3", want: "v1"},
		{name: "an older release deployed again last",
			spec:    map[string][]string{"v1": {"d+@10", "rv2@25"}, "v2": {"d+@20"}, "v3": {"d-@30"}},
			running: "v3", want: "v1"},
		{name: "a first deploy has nothing before it",
			spec:    map[string][]string{"v1": {"d-@10"}},
			running: "v1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := registry.PreviousRelease(history(t, tt.spec, tt.running))
			if tt.want == "" {
				if !errors.Is(err, registry.ErrNoRollback) {
					t.Fatalf("PreviousRelease = %v, %v; want ErrNoRollback", got, err)
				}
				return
			}
			if err != nil || got.Lock.Tag != tt.want {
				t.Fatalf("PreviousRelease = %v, %v; want %s", got, err, tt.want)
			}
		})
	}
}

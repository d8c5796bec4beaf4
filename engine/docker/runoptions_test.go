package docker

import (
	"strings"
	"testing"

	"github.com/stack-deploy/stack/engine"
)

// TestLogsReadNamesOneOffs: a one-off is read when named (by its name, or
// by its ID or a prefix of 12 or more), alone when no service is; a
// reference that is neither is an error.
func TestLogsReadNamesOneOffs(t *testing.T) {
	cs := []engine.Container{{Name: "p-web-1", Service: "web", Number: 1}, {Name: "p-web-run-1", ID: "0123456789abcdef0123", Service: "web", OneOff: true}}
	names := func(o engine.LogsOptions) string {
		read, err := logsRead(cs, o)
		if err != nil {
			return err.Error()
		}
		var out []string
		for _, c := range read {
			out = append(out, c.Name)
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		o    engine.LogsOptions
		want string
	}{
		{engine.LogsOptions{}, "p-web-1"},
		{engine.LogsOptions{OneOffs: []string{"p-web-run-1"}}, "p-web-run-1"},
		{engine.LogsOptions{Services: []string{"web"}, OneOffs: []string{"p-web-run-1"}}, "p-web-1,p-web-run-1"},
		{engine.LogsOptions{OneOffs: []string{"0123456789ab"}}, "p-web-run-1"},
		{engine.LogsOptions{OneOffs: []string{"0123"}}, `no such service or one-off container: "0123"`},
		{engine.LogsOptions{OneOffs: []string{"nope"}}, `no such service or one-off container: "nope"`},
	} {
		if got := names(tc.o); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.o, got, tc.want)
		}
	}
}

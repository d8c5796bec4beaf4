package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunFlagsParse: good values become the one-off's options (a relative
// bind from the current directory); each bad one is an error naming its
// flag and value.
func TestRunFlagsParse(t *testing.T) {
	var o runOptions
	r := runFlags{publish: []string{"127.0.0.1:8080:80"}, volumes: []string{"./src:/src:ro", "data:/data", "/anon"}, labels: []string{"team=qa", "empty="}, pull: "never"}
	if err := r.parse(&o); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if len(o.Publish) != 1 || o.Publish[0].Published != "8080" || o.Publish[0].HostIP != "127.0.0.1" ||
		o.Volumes[0].Source != filepath.Join(wd, "src") || !o.Volumes[0].ReadOnly || o.Volumes[1].Source != "data" || o.Volumes[2].Source != "" ||
		o.Labels["team"] != "qa" || o.Labels["empty"] != "" || o.Pull != "never" {
		t.Errorf("parsed %+v", o)
	}
	for _, tc := range []struct {
		r    runFlags
		want string
	}{
		{runFlags{publish: []string{"notaport"}, pull: "policy"}, `-p/--publish "notaport"`},
		{runFlags{volumes: []string{"rel:data"}, pull: "policy"}, `-v/--volume "rel:data"`},
		{runFlags{labels: []string{"nokey"}, pull: "policy"}, `-l/--label "nokey": a label is KEY=VALUE`},
		{runFlags{labels: []string{"=v"}, pull: "policy"}, `-l/--label "=v"`},
		{runFlags{pull: "sometimes"}, `--pull "sometimes"`},
	} {
		var o runOptions
		if err := tc.r.parse(&o); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %s...", tc.r, err, tc.want)
		}
	}
	o = runOptions{}
	o.ServicePorts = true
	if err := (&runFlags{publish: []string{"80"}, pull: "policy"}).parse(&o); err == nil || !strings.Contains(err.Error(), "--service-ports and -p/--publish") {
		t.Errorf("-P with -p: %v", err)
	}
}

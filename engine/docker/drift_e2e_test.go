package docker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stack-deploy/stack/internal/dockerclient"

	"github.com/docker/docker/api/types/volume"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/internal/e2e"
)

const driftCompose = `
services:
  web:
    image: busybox:stable
    init: true
    command: ["sleep", "3600"]
    networks: [default, back]
    volumes: ["data:/data"]
networks:
  back: {}
volumes:
  data: {}
`

// countLabelled counts the networks or volumes (what: "network", "volume")
// carrying the project's label.
func countLabelled(t *testing.T, what, project string) int {
	t.Helper()
	out := e2e.Docker(t, what, "ls", "-q", "--filter", "label="+e2e.Label+"="+project)
	if out == "" {
		return 0
	}
	return len(strings.Fields(out))
}

// What drifts from the plan is put back. Model: web on two networks with a
// named volume. Steps: up; disconnect web from one network -> plan says
// repair, up reconnects it; reconnect it without its alias -> plan says
// repair, up gives the alias back; after each, plan exits 0.
func TestNetworkDriftIsRepaired(t *testing.T) {
	c, project := stack(t, driftCompose)
	c.MustRun(t, "up")
	web, back := project+"-web-1", project+"_back"
	for _, tt := range []struct {
		name, reason string
		drift        func()
	}{
		{"disconnected", "not connected to network " + back, func() { e2e.Docker(t, "network", "disconnect", back, web) }},
		{"alias lost", `alias "web" missing on network ` + back, func() {
			e2e.Docker(t, "network", "disconnect", back, web)
			e2e.Docker(t, "network", "connect", back, web)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.drift()
			r := c.Run(t, "plan", "--detailed-exitcode")
			if r.Code != 2 || !containsLine(r.Stdout, "service:web", "repair", tt.reason) {
				t.Fatalf("plan: exit %d, want 2 and web to repair: %s", r.Code, tt.reason)
			}
			c.MustRun(t, "up")
			aliases := e2e.Docker(t, "inspect", "-f", `{{join (index .NetworkSettings.Networks "`+back+`").Aliases " "}}`, web)
			if !strings.Contains(" "+aliases+" ", " web ") {
				t.Errorf("aliases on %s after up: %q, want web", back, aliases)
			}
			if r := c.Run(t, "plan", "--detailed-exitcode"); r.Code != 0 {
				t.Errorf("plan after the repair: exit %d, want 0", r.Code)
			}
		})
	}
}

// Two networks of one name and key (two runs racing to create it), and two
// volumes of one key: up removes the unused duplicate network, and down and
// down -v remove every one of them without failing. Model: driftCompose.
// Steps: up; add a second <project>_back with the project's labels -> plan
// says repair, up leaves one; add it again, and a second volume of key data
// -> down -v removes all, exit 0.
func TestDuplicatesAreRemoved(t *testing.T) {
	c, project := stack(t, driftCompose)
	c.MustRun(t, "up")
	cl, err := dockerclient.New()
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// duplicate makes a second back network; false when the engine
	// refuses it.
	duplicate := func() bool {
		t.Helper()
		// The CLI and the Go client refuse a taken name; the engine does not
		// when asked not to check (before API 1.44), nor when two creates
		// race: the state two racing `up`s leave.
		body, _ := json.Marshal(map[string]any{
			"Name": project + "_back", "CheckDuplicate": false,
			"Labels": map[string]string{engine.LabelProject: project, engine.LabelNetwork: "back"},
		})
		hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", e2e.EngineSocket())
		}}}
		resp, err := hc.Post("http://engine/v1.41/networks/create", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusConflict && refusesDuplicateNetworks(t) {
			// Engine API 1.44 (Docker 25) and later refuse a second network
			// of a name whatever the request says, racing creates included:
			// the state this test repairs cannot arise there.
			t.Logf("the engine (API %s) refuses a duplicate network: nothing to repair", e2e.Docker(t, "version", "--format", "{{.Server.APIVersion}}"))
			return false
		}
		if resp.StatusCode != http.StatusCreated {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("creating a duplicate network: %s %s", resp.Status, b)
		}
		return true
	}
	if !duplicate() {
		// Docker 25 and later: the project stays as up left it.
		if r := c.Run(t, "plan", "--detailed-exitcode"); r.Code != 0 {
			t.Fatalf("plan after a refused duplicate: exit %d, want 0", r.Code)
		}
		c.MustRun(t, "down", "-v")
		return
	}
	if n := countLabelled(t, "network", project); n != 3 {
		t.Fatalf("%d networks, want 3 (default and two back)", n)
	}
	r := c.Run(t, "plan", "--detailed-exitcode")
	if r.Code != 2 || !containsLine(r.Stdout, "network:back", "repair", "2 networks named") {
		t.Fatalf("plan: exit %d, want the duplicate network repaired", r.Code)
	}
	c.MustRun(t, "up")
	if n := countLabelled(t, "network", project); n != 2 {
		t.Fatalf("%d networks after up, want 2", n)
	}
	if r := c.Run(t, "plan", "--detailed-exitcode"); r.Code != 0 {
		t.Fatalf("plan after the repair: exit %d, want 0", r.Code)
	}

	if !duplicate() {
		t.Fatal("the engine refused a duplicate network it took before")
	}
	if _, err := cl.VolumeCreate(t.Context(), volume.CreateOptions{
		Name:   project + "_data_old",
		Labels: map[string]string{engine.LabelProject: project, engine.LabelVolume: "data"},
	}); err != nil {
		t.Fatal(err)
	}
	c.MustRun(t, "down", "-v")
	if n, v := countLabelled(t, "network", project), countLabelled(t, "volume", project); n+v != 0 {
		t.Errorf("after down -v: %d networks and %d volumes of the project, want none", n, v)
	}
}

// A network that something else still uses is an error that says what:
// down removes what is the project's, and names the network, the way to see
// who holds it, and --remove-orphans. Model: web up; a container of no
// project connected to its network. Steps: down -> exit 1 naming the
// network and the hints, web gone; the foreign container removed, down ->
// exit 0, the network gone.
func TestDownSaysWhoHoldsANetwork(t *testing.T) {
	c, project := stack(t, driftCompose)
	c.MustRun(t, "up")
	net := project + "_back"
	foreign := project + "-foreign"
	e2e.Docker(t, "run", "-d", "--name", foreign, "--network", net, "busybox:stable", "sleep", "3600")
	t.Cleanup(func() { e2e.Docker(t, "rm", "-f", foreign) })
	r := c.Run(t, "down")
	if r.Code != 1 || !strings.Contains(r.Stderr, `removing network "`+net+`"`) ||
		!strings.Contains(r.Stderr, "docker network inspect "+net) || !strings.Contains(r.Stderr, "--remove-orphans") {
		t.Fatalf("down with a foreign container on %s: exit %d, want 1 naming the network, docker network inspect and --remove-orphans", net, r.Code)
	}
	if got := len(ids(t, project)); got != 0 {
		t.Errorf("%d containers of the project after down, want 0", got)
	}
	e2e.Docker(t, "rm", "-f", foreign)
	c.MustRun(t, "down")
	if n := countLabelled(t, "network", project); n != 0 {
		t.Errorf("%d networks after down, want 0", n)
	}
}

// refusesDuplicateNetworks asks the engine whether it refuses two networks
// of one name: Engine API 1.44 (Docker 25) and later do.
func refusesDuplicateNetworks(t *testing.T) bool {
	api := e2e.Docker(t, "version", "--format", "{{.Server.APIVersion}}")
	_, minor, _ := strings.Cut(api, ".")
	m, err := strconv.Atoi(minor)
	return err == nil && strings.HasPrefix(api, "1.") && m >= 44
}

package swarm

import (
	"strings"
	"testing"

	"github.com/docker/docker/api/types/swarm"
)

func TestNodeHosts(t *testing.T) {
	node := func(id, hostname, addr string) swarm.Node {
		return swarm.Node{ID: id, Description: swarm.NodeDescription{Hostname: hostname}, Status: swarm.NodeStatus{Addr: addr}}
	}
	tests := []struct {
		env  string
		node swarm.Node
		want string
		err  string
	}{
		{env: "", node: node("id1", "n1", "10.0.0.1"), want: ""},
		{env: "n1=unix:///run/n1.sock, n2=tcp://10.0.0.2:2376", node: node("id2", "n2", "10.0.0.2"), want: "tcp://10.0.0.2:2376"},
		{env: "id3=ssh://root@n3", node: node("id3", "n3", "10.0.0.3"), want: "ssh://root@n3"},
		{env: "n1=unix:///a,*=ssh://admin@{addr}", node: node("id4", "n4", "10.0.0.4"), want: "ssh://admin@10.0.0.4"},
		{env: "*=tcp://{hostname}.lan:2376", node: node("id5", "n5", "10.0.0.5"), want: "tcp://n5.lan:2376"},
		{env: "n1=unix:///a,*=ssh://{addr}", node: node("id1", "n1", "10.0.0.1"), want: "unix:///a"},
		{env: "n1", err: "entry \"n1\": write NODE=HOST"},
		{env: "=tcp://x", err: "write NODE=HOST"},
	}
	for _, tt := range tests {
		hosts, err := ParseNodeHosts(tt.env)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), NodeHostsEnv) {
				t.Errorf("ParseNodeHosts(%q) = %v, want an error naming %s with %q", tt.env, err, NodeHostsEnv, tt.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("ParseNodeHosts(%q): %v", tt.env, err)
		}
		d := &Driver{nodeHosts: hosts}
		if got := d.nodeHost(tt.node); got != tt.want {
			t.Errorf("%s: node %s = %q, want %q", tt.env, tt.node.Description.Hostname, got, tt.want)
		}
	}
}

func TestTaskOfContainer(t *testing.T) {
	for name, want := range map[string]struct {
		task string
		slot int
	}{
		"shop_web.2.x6smx27f01fqd5okfehk5":                           {"shop_web.2", 2},
		"shop_agent.rn520thzn2shcmxp6blrbcmqq.x6smx27f01fqd5okfehk5": {"shop_agent.rn520thzn2shcmxp6blrbcmqq", 0},
		"plain": {"plain", 0},
	} {
		task, slot := taskOfContainer(name)
		if task != want.task || slot != want.slot {
			t.Errorf("taskOfContainer(%q) = %q, %d; want %q, %d", name, task, slot, want.task, want.slot)
		}
	}
}

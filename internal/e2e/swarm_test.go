package e2e

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseSwarmEnv(t *testing.T) {
	lab, err := parseSwarmEnv([]byte(`export DOCKER_HOST=unix:///lab/node1/docker.sock
export STACK_SWARM_LAB_HOST=unix:///lab/node1/docker.sock
export STACK_SWARM_LAB_REGISTRY=127.0.0.1:5235
export STACK_SWARM_LAB_PRIVATE_REGISTRY=127.0.0.1:5236
export STACK_SWARM_LAB_PRIVATE_AUTH=user:pass:word
export STACK_SWARM_LAB_NODES=2
export STACK_SWARM_LAB_NODE1_HOST=unix:///lab/node1/docker.sock
export STACK_SWARM_LAB_NODE1_ADDR=10.235.0.11
export STACK_SWARM_LAB_NODE2_HOST=unix:///lab/node2/docker.sock
export STACK_SWARM_LAB_NODE2_ADDR=10.235.0.12
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []SwarmNode{{Host: "unix:///lab/node1/docker.sock", Addr: "10.235.0.11"}, {Host: "unix:///lab/node2/docker.sock", Addr: "10.235.0.12"}}
	if lab.Host != "unix:///lab/node1/docker.sock" || lab.Registry != "127.0.0.1:5235" || !reflect.DeepEqual(lab.Nodes, want) ||
		lab.PrivateRegistry != "127.0.0.1:5236" || lab.PrivateUser != "user" || lab.PrivatePassword != "pass:word" {
		t.Errorf("got %+v", lab)
	}
	if _, err := parseSwarmEnv([]byte("export STACK_SWARM_LAB_NODES=1\n")); err == nil {
		t.Error("an environment without a host was accepted")
	}
	if _, err := parseSwarmEnv([]byte("export STACK_SWARM_LAB_HOST=h\nexport STACK_SWARM_LAB_REGISTRY=r\nexport STACK_SWARM_LAB_PRIVATE_REGISTRY=p\nexport STACK_SWARM_LAB_PRIVATE_AUTH=u:p\nexport STACK_SWARM_LAB_NODES=1\n")); err == nil {
		t.Error("a node without a host and address was accepted")
	}
}

// TestSwarmLab: the lab is a Swarm of SwarmNodes Ready nodes, and an image
// Image copies from the main engine can be pulled by digest on every node.
func TestSwarmLab(t *testing.T) {
	lab := Swarm(t)
	if len(lab.Nodes) != SwarmNodes {
		t.Fatalf("%d nodes, want %d", len(lab.Nodes), SwarmNodes)
	}
	if ready := lab.Docker(t, 0, "node", "ls", "--format", "{{.Status}}"); strings.Count(ready, "Ready") != SwarmNodes {
		t.Fatalf("node states %q", ready)
	}
	ref := lab.Image(t, "busybox:stable")
	if !strings.HasPrefix(ref, lab.Registry+"/library/busybox@sha256:") || lab.Image(t, "busybox:stable") != ref {
		t.Fatalf("Image gave %q, then %q", ref, lab.Image(t, "busybox:stable"))
	}
	for i := range lab.Nodes {
		if out := lab.Docker(t, i, "pull", "-q", ref); out != ref {
			t.Errorf("node %d pulled %q, want %q", i+1, out, ref)
		}
		lab.Docker(t, i, "rmi", ref)
	}
}

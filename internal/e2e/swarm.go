package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// SwarmNodes is the size of the lab Swarm tests get: three nodes, node 1
// the manager.
const SwarmNodes = 3

// SwarmLab is the multi-node Docker Swarm scripts/swarm-lab.sh runs on this
// machine: one dockerd per node in network namespaces of their own, and a
// registry every node pulls from. There is no IPVS on the kernels we test
// on: services that must be reached use endpoint_mode dnsrr, and published
// ports mode host.
type SwarmLab struct {
	// Host is the manager's DOCKER_HOST (node 1).
	Host string
	// Registry is the lab registry, 127.0.0.1:5235: the main engine pushes
	// to it, and every node pulls from it under the same name.
	Registry string
	// PrivateRegistry, 127.0.0.1:5236, serves the same images to HTTP basic
	// authentication as PrivateUser and PrivatePassword only.
	PrivateRegistry, PrivateUser, PrivatePassword string
	// Nodes are the lab's nodes in order; Nodes[0] is the manager.
	Nodes []SwarmNode

	labImages
}

// SwarmNode is one node of the lab.
type SwarmNode struct {
	// Host is the DOCKER_HOST of the node's own engine.
	Host string
	// Addr is the node's address on the lab bridge, reachable from the
	// tests: host-mode published ports answer there.
	Addr string
}

var (
	swarmOnce sync.Once
	swarmLab  *SwarmLab
	swarmErr  error
)

// labTests is the lock every test using the lab holds until it ends:
// shared, or alone for one that changes the lab itself. Test processes of
// several packages run at once, and a drained node would move their tasks
// under them.
const labTests = "/tmp/stack-swarm-lab.tests.lock"

// Swarm returns the lab, starting it when it is not up (`make test` starts
// it before the tests; scripts/swarm-lab.sh up is a no-op on a healthy lab).
// It stays up for later tests and runs; scripts/swarm-lab.sh down removes
// it. Left out under -short; failed, never skipped, when it cannot start.
// The test shares the lab with those of other processes until it ends.
func Swarm(t testing.TB) *SwarmLab {
	t.Helper()
	lab := startSwarm(t)
	holdLab(t, syscall.LOCK_SH)
	return lab
}

// SwarmExclusive is Swarm for a test that changes the lab (drains a node):
// no other test uses it until this one ends.
func SwarmExclusive(t testing.TB) *SwarmLab {
	t.Helper()
	lab := startSwarm(t)
	holdLab(t, syscall.LOCK_EX)
	return lab
}

// holdLab takes the tests' lock on the lab (how: shared or exclusive) until
// t ends, waiting for it as long as it takes.
func holdLab(t testing.TB, how int) {
	t.Helper()
	f, err := os.OpenFile(labTests, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		t.Fatalf("locking %s: %v", labTests, err)
	}
	t.Cleanup(func() { f.Close() }) // closing releases the lock
}

func startSwarm(t testing.TB) *SwarmLab {
	t.Helper()
	Engine(t) // images come from the main engine
	swarmOnce.Do(func() {
		script := filepath.Join(Root(), "scripts", "swarm-lab.sh")
		cmd := exec.Command(script, "up", strconv.Itoa(SwarmNodes))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			swarmErr = fmt.Errorf("starting the Swarm lab (%s up %d): %w\n%s", script, SwarmNodes, err, stderr.String())
			return
		}
		swarmLab, swarmErr = parseSwarmEnv(out)
	})
	if swarmErr != nil {
		t.Fatal(swarmErr)
	}
	return swarmLab
}

// parseSwarmEnv reads the `export KEY=VALUE` lines of swarm-lab.sh env.
func parseSwarmEnv(out []byte) (*SwarmLab, error) {
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimPrefix(sc.Text(), "export "), "=")
		if ok {
			env[k] = v
		}
	}
	lab := &SwarmLab{Host: env["STACK_SWARM_LAB_HOST"], Registry: env["STACK_SWARM_LAB_REGISTRY"], PrivateRegistry: env["STACK_SWARM_LAB_PRIVATE_REGISTRY"], labImages: labImages{registry: env["STACK_SWARM_LAB_REGISTRY"], images: map[string]string{}}}
	lab.PrivateUser, lab.PrivatePassword, _ = strings.Cut(env["STACK_SWARM_LAB_PRIVATE_AUTH"], ":")
	n, err := strconv.Atoi(env["STACK_SWARM_LAB_NODES"])
	if err != nil || lab.Host == "" || lab.Registry == "" || lab.PrivateRegistry == "" || lab.PrivatePassword == "" {
		return nil, fmt.Errorf("reading the Swarm lab's environment: no STACK_SWARM_LAB_HOST, _REGISTRY, _PRIVATE_REGISTRY, _PRIVATE_AUTH or _NODES in:\n%s", out)
	}
	for i := 1; i <= n; i++ {
		node := SwarmNode{Host: env[fmt.Sprintf("STACK_SWARM_LAB_NODE%d_HOST", i)], Addr: env[fmt.Sprintf("STACK_SWARM_LAB_NODE%d_ADDR", i)]}
		if node.Host == "" || node.Addr == "" {
			return nil, fmt.Errorf("reading the Swarm lab's environment: node %d has no HOST or ADDR in:\n%s", i, out)
		}
		lab.Nodes = append(lab.Nodes, node)
	}
	return lab, nil
}

// Client returns a Docker client for the manager, closed when the test ends.
func (l *SwarmLab) Client(t testing.TB) *client.Client {
	t.Helper()
	return dial(t, l.Host)
}

// NodeClient returns a Docker client for node i (0-based), closed when the
// test ends.
func (l *SwarmLab) NodeClient(t testing.TB, i int) *client.Client {
	t.Helper()
	return dial(t, l.Nodes[i].Host)
}

func dial(t testing.TB, host string) *client.Client {
	c, err := client.NewClientWithOpts(client.WithHost(host), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatalf("connecting to %s: %v", host, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Docker runs the docker CLI against node i (0-based) and returns its
// trimmed stdout; it does not fail the test, so cleanup and probes can use it.
func (l *SwarmLab) Docker(t testing.TB, i int, args ...string) string {
	t.Helper()
	return Docker(t, append([]string{"-H", l.Nodes[i].Host}, args...)...)
}

// SwarmProject returns a project name unique to this test run and, when the
// test ends, removes every service, secret, config and network labelled
// with it from the lab, and then the task containers and volumes the nodes
// made for it.
func (l *SwarmLab) SwarmProject(t testing.TB) string {
	t.Helper()
	name := uniqueName(t)
	t.Cleanup(func() {
		if err := l.RemoveProject(t, name); err != nil {
			t.Error(err)
		}
	})
	return name
}

// RemoveProject removes what SwarmProject's cleanup removes, going on past
// what it cannot remove. Swarm removes services asynchronously: it waits,
// up to a minute, until each node has stopped the project's containers and
// the networks are gone.
func (l *SwarmLab) RemoveProject(t testing.TB, name string) error {
	t.Helper()
	filter := "label=" + Label + "=" + name
	deadline := time.Now().Add(time.Minute)
	var errs []error
	if ids := l.Docker(t, 0, "service", "ls", "-q", "--filter", filter); ids != "" {
		l.Docker(t, 0, append([]string{"service", "rm"}, strings.Fields(ids)...)...)
	}
	for _, kind := range []string{"secret", "config"} {
		if ids := l.Docker(t, 0, kind, "ls", "-q", "--filter", filter); ids != "" {
			l.Docker(t, 0, append([]string{kind, "rm"}, strings.Fields(ids)...)...)
		}
	}
	for i := range l.Nodes {
		for l.Docker(t, i, "ps", "-q", "--filter", filter) != "" && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
		}
		// Swarm leaves the containers of completed job tasks behind, and
		// those of tasks that outlived the deadline go the same way.
		if ids := l.Docker(t, i, "ps", "-aq", "--filter", filter); ids != "" {
			l.Docker(t, i, append([]string{"rm", "-f"}, strings.Fields(ids)...)...)
		}
		if ids := l.Docker(t, i, "volume", "ls", "-q", "--filter", filter); ids != "" {
			l.Docker(t, i, append([]string{"volume", "rm", "-f"}, strings.Fields(ids)...)...)
		}
	}
	for {
		ids := l.Docker(t, 0, "network", "ls", "-q", "--filter", filter)
		if ids == "" {
			break
		}
		if time.Now().After(deadline) {
			errs = append(errs, errors.New("networks "+ids+" are still there after a minute"))
			break
		}
		_, _ = exec.Command("docker", append([]string{"-H", l.Host, "network", "rm"}, strings.Fields(ids)...)...).CombinedOutput()
		time.Sleep(200 * time.Millisecond)
	}
	for _, kind := range []string{"service", "secret", "config"} {
		if ids := l.Docker(t, 0, kind, "ls", "-q", "--filter", filter); ids != "" {
			errs = append(errs, fmt.Errorf("%ss %s are still there", kind, ids))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("removing Swarm project %s: %w", name, err)
	}
	return nil
}

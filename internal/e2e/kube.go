package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// KubeLab is the one-node Kubernetes (v1.34) scripts/kube-lab.sh runs on
// this machine: the node in network namespaces of its own, a default
// StorageClass that provisions, CoreDNS, and a registry the node pulls
// from. There is no LoadBalancer: services are reached at NodePorts.
type KubeLab struct {
	// Kubeconfig is the path of an admin kubeconfig (KUBECONFIG).
	Kubeconfig string
	// Node is the node's address, reachable from the tests: NodePorts
	// answer there (STACK_KUBE_NODE).
	Node string
	// Registry is the lab registry, 127.0.0.1:5240: the main engine pushes
	// to it, and the node pulls from it under the same name
	// (STACK_KUBE_REGISTRY).
	Registry string

	labImages
}

var (
	kubeOnce        sync.Once
	kubeLab         *KubeLab
	kubeErr         error
	kubeUnsupported bool // kube-lab.sh exited 2: this machine cannot host it
)

// kubeTests is the lock every test using the Kubernetes lab holds, shared,
// until it ends: scripts/kube-lab.sh down takes it alone, so it waits for
// the tests of every process to end before it removes the lab.
const kubeTests = "/tmp/stack-kube-lab.tests.lock"

// Kube returns the Kubernetes lab, starting it when it is not up (its first
// start builds Kubernetes, about ten minutes; scripts/kube-lab.sh up is a
// no-op on a healthy lab). It stays up for later tests and runs;
// scripts/kube-lab.sh down removes it. Left out under -short; failed when it
// cannot start, skipped only outside CI on a machine that cannot host it
// (not root, no namespaces: kube-lab.sh exits 2).
func Kube(t testing.TB) *KubeLab {
	t.Helper()
	Engine(t) // images come from the main engine
	kubeOnce.Do(func() {
		script := filepath.Join(Root(), "scripts", "kube-lab.sh")
		cmd := exec.Command(script, "up")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			var exit *exec.ExitError
			kubeUnsupported = errors.As(err, &exit) && exit.ExitCode() == 2
			kubeErr = fmt.Errorf("starting the Kubernetes lab (%s up): %w\n%s", script, err, stderr.String())
			return
		}
		env := map[string]string{}
		for _, line := range strings.Split(string(out), "\n") {
			if k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "="); ok {
				env[k] = v
			}
		}
		kubeLab = &KubeLab{Kubeconfig: env["KUBECONFIG"], Node: env["STACK_KUBE_NODE"], Registry: env["STACK_KUBE_REGISTRY"], labImages: labImages{registry: env["STACK_KUBE_REGISTRY"], images: map[string]string{}}}
		if kubeLab.Kubeconfig == "" || kubeLab.Node == "" || kubeLab.Registry == "" {
			kubeErr = fmt.Errorf("reading the Kubernetes lab's environment: no KUBECONFIG, STACK_KUBE_NODE or STACK_KUBE_REGISTRY in:\n%s", out)
		}
	})
	if kubeErr != nil {
		if kubeUnsupported && os.Getenv("CI") != "true" {
			t.Skip(kubeErr)
		}
		t.Fatal(kubeErr)
	}
	f, err := os.OpenFile(kubeTests, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
		f.Close()
		t.Fatalf("locking %s: %v", kubeTests, err)
	}
	t.Cleanup(func() { f.Close() }) // closing releases the lock
	return kubeLab
}

// Env is the environment a command run against the lab needs.
func (l *KubeLab) Env() []string {
	return []string{"KUBECONFIG=" + l.Kubeconfig, "STACK_KUBE_NODE=" + l.Node, "STACK_KUBE_REGISTRY=" + l.Registry}
}

// Kubectl runs kubectl (the lab's, v1.34) against the lab and returns its
// trimmed stdout; it does not fail the test, so cleanup and probes can use
// it.
func (l *KubeLab) Kubectl(t testing.TB, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(Root(), "scripts", "kube-lab.sh"), append([]string{"kubectl"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Logf("kubectl %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

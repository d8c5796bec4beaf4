package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

var (
	komposeOnce sync.Once
	komposeBin  string
	komposeErr  error
)

// Kompose returns the path of kompose, which scripts/kompose.sh builds from
// the Go module proxy once per machine (cached by version under
// /var/cache/stack-labs; minutes the first time, nothing afterwards).
func Kompose(t testing.TB) string {
	t.Helper()
	komposeOnce.Do(func() {
		cmd := exec.Command(filepath.Join(Root(), "scripts", "kompose.sh"))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			komposeErr = fmt.Errorf("running scripts/kompose.sh: %w\n%s", err, stderr.String())
			return
		}
		komposeBin = strings.TrimSpace(string(out))
	})
	if komposeErr != nil {
		t.Fatal(komposeErr)
	}
	return komposeBin
}

// labVersion is the Kubernetes version scripts/kube-lab.sh builds.
var labVersion = regexp.MustCompile(`(?m)^KUBE_VERSION=(v[0-9.]+)$`)

// KubectlBin is the path of the lab's kubectl, for a test that times it
// (Kubectl goes through scripts/kube-lab.sh): where the script caches it,
// $STACK_LAB_CACHE/kube-<version>/kubectl, the version read from the
// script. Run it with Env, which names the lab's kubeconfig.
func (l *KubeLab) KubectlBin(t testing.TB) string {
	t.Helper()
	script, err := os.ReadFile(filepath.Join(Root(), "scripts", "kube-lab.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := labVersion.FindSubmatch(script)
	if m == nil {
		t.Fatal("scripts/kube-lab.sh sets no KUBE_VERSION=v...")
	}
	cache := os.Getenv("STACK_LAB_CACHE")
	if cache == "" {
		cache = "/var/cache/stack-labs"
	}
	bin := filepath.Join(cache, "kube-"+string(m[1]), "kubectl")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("the lab's kubectl: %v", err)
	}
	return bin
}

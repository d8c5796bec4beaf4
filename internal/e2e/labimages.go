package e2e

import (
	"fmt"
	"os/exec"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/distribution/reference"
)

// labImages are the images a lab's registry holds for this process: the
// Swarm lab and the Kubernetes lab copy images from the main engine alike.
type labImages struct {
	registry string
	mu       sync.Mutex
	images   map[string]string // local image -> digest reference in registry
}

var pushDigest = regexp.MustCompile(`digest: (sha256:[0-9a-f]{64})`)

// Image copies image local from the main engine into the lab registry and
// returns its digest reference there (127.0.0.1:5235/busybox@sha256:...),
// which the lab's nodes pull. It pushes through a tag of this process's
// own and removes the tag again; each image is pushed once per process.
func (l *labImages) Image(t testing.TB, local string) string {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if ref, ok := l.images[local]; ok {
		return ref
	}
	named, err := reference.ParseNormalizedNamed(local)
	if err != nil {
		t.Fatalf("image %q: %v", local, err)
	}
	tagged, ok := reference.TagNameOnly(named).(reference.Tagged)
	if !ok {
		t.Fatalf("image %q: Image copies a tagged image, not a digest", local)
	}
	remote := fmt.Sprintf("%s/%s:%s-e2e%d", l.registry, reference.Path(named), tagged.Tag(), time.Now().UnixNano())
	if out, err := exec.Command("docker", "tag", local, remote).CombinedOutput(); err != nil {
		t.Fatalf("docker tag %s %s: %v\n%s", local, remote, err, out)
	}
	out, err := exec.Command("docker", "push", remote).CombinedOutput()
	Docker(t, "rmi", remote)
	if err != nil {
		t.Fatalf("docker push %s: %v\n%s", remote, err, out)
	}
	m := pushDigest.FindSubmatch(out)
	if m == nil {
		t.Fatalf("docker push %s printed no digest:\n%s", remote, out)
	}
	ref := l.registry + "/" + reference.Path(named) + "@" + string(m[1])
	l.images[local] = ref
	return ref
}

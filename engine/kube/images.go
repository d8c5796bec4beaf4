package kube

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/distribution/reference"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/stack-deploy/stack/engine"
)

var _ engine.ImageLister = (*Driver)(nil)

// listed keeps the pods Ps listed, by UID: the containers a verb then asks
// about (`stack images` lists the pods, then their images) are described
// from them without reading the cluster again.
type listed struct {
	mu   sync.Mutex
	pods map[string]corev1.Pod
}

func (l *listed) keep(pods []corev1.Pod) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pods == nil {
		l.pods = map[string]corev1.Pod{}
	}
	for _, p := range pods {
		l.pods[string(p.UID)] = p
	}
}

func (l *listed) get(uid string) (corev1.Pod, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.pods[uid]
	return p, ok
}

// Images describes the image each pod of cs runs, as `docker compose
// images` describes a container's: its repository and tag (or digest, as
// stack runs pushed images) from the pod's spec, and the image ID the
// kubelet reports in the pod's status (the digest it pulled). The size,
// platform and creation time are the node's to know: they are left out.
// A pod Ps did not list is read from the driver's namespace.
func (d *Driver) Images(ctx context.Context, cs []engine.Container) ([]engine.ContainerImage, error) {
	out := make([]engine.ContainerImage, 0, len(cs))
	for _, c := range cs {
		p, ok := d.listed.get(c.ID)
		if !ok {
			if d.namespace == "" {
				return nil, fmt.Errorf("describing the image of pod %s: the pod was not listed, and the driver has no namespace", c.Name)
			}
			got, err := d.client.CoreV1().Pods(d.namespace).Get(ctx, c.Name, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("reading pod %s: %w", c.Name, err)
			}
			p = *got
		}
		out = append(out, podImage(c, p))
	}
	return out, nil
}

// podImage is the image of p's service container (its first).
func podImage(c engine.Container, p corev1.Pod) engine.ContainerImage {
	ci := engine.ContainerImage{Container: c}
	if len(p.Spec.Containers) == 0 {
		return ci
	}
	name := p.Spec.Containers[0].Image
	if ref, err := reference.ParseDockerRef(name); err == nil {
		ci.Repository = reference.FamiliarName(ref)
		switch r := ref.(type) {
		case reference.Tagged:
			ci.Tag = r.Tag()
		case reference.Digested:
			ci.Tag = r.Digest().String()
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Name == p.Spec.Containers[0].Name {
			id := cs.ImageID
			if _, digest, ok := strings.Cut(id, "@"); ok {
				id = digest
			}
			ci.ID = id
		}
	}
	return ci
}

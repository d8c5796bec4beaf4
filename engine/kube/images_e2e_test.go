package kube_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestKubeImages: `stack images` lists the image each pod runs, as `docker
// compose images` lists containers'.
//
// Model: observeCompose, web with two pods of the lab's busybox by digest.
//
// Steps: images --format json -> one entry per pod, service web, the
// repository and digest the pod's spec names, and the image ID the
// kubelet reports in its status -> images (a table) -> the columns and
// both pods.
func TestKubeImages(t *testing.T) {
	stack, lab, ns := kubeVerbs(t)
	var got []struct {
		ID, ContainerName, Service, Repository, Tag string
	}
	out := stack.MustRun(t, "images", "--format", "json").Stdout
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("images --format json: %v\n%s", err, out)
	}
	if len(got) != 2 {
		t.Fatalf("images lists %d pods, want 2:\n%s", len(got), out)
	}
	for _, img := range got {
		spec := lab.Kubectl(t, "-n", ns, "get", "pod", img.ContainerName, "-o", "jsonpath={.spec.containers[0].image}")
		status := lab.Kubectl(t, "-n", ns, "get", "pod", img.ContainerName, "-o", "jsonpath={.status.containerStatuses[0].imageID}")
		if img.Service != "web" || spec != img.Repository+"@"+img.Tag || !strings.HasPrefix(img.ID, "sha256:") || !strings.HasSuffix(status, img.ID) {
			t.Errorf("image of pod %s: %+v; want service web, the spec's %s, and the status's ID %s", img.ContainerName, img, spec, status)
		}
	}
	table := stack.MustRun(t, "images").Stdout
	if !strings.HasPrefix(table, "CONTAINER") || !strings.Contains(table, got[0].ContainerName) || !strings.Contains(table, got[1].ContainerName) {
		t.Errorf("images table:\n%s", table)
	}
}

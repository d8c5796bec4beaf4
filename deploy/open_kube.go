package deploy

import (
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/stack-deploy/stack/engine/kube"
	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/internal/dockerclient"
	"github.com/stack-deploy/stack/manifest"
)

// openKube deploys to the cluster of the environment's kubeconfig context
// (KUBECONFIG as kubectl reads it; the current context when it names
// none), into its namespace:. Images are built on the local engine and
// pushed by digest to the registry the nodes pull from, as for a Swarm
// (image.NodeImages).
func openKube(env manifest.Environment) (*Target, error) {
	local, err := dockerclient.New()
	if err != nil {
		return nil, fmt.Errorf("connecting to the Docker engine that builds: %w", err)
	}
	t := &Target{closers: []io.Closer{local}}
	if t.Builder, err = image.New(image.WithClient(local)); err != nil {
		t.Close()
		return nil, err
	}
	images := image.NewNodeImages(t.Builder, local, authn.DefaultKeychain, "the cluster's nodes")
	opts := []kube.Option{kube.WithContext(env.Context), kube.WithImages(images)}
	if env.Namespace != "" {
		opts = append(opts, kube.WithNamespace(env.Namespace))
	}
	d, err := kube.New(opts...)
	if err != nil {
		t.Close()
		return nil, err
	}
	t.Driver, t.ensure = d, d.Resolve
	return t, nil
}

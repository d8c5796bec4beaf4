package deploy

import (
	"fmt"
	"io"

	"github.com/stack-deploy/stack/engine/kube"
	"github.com/stack-deploy/stack/engine/swarm"
	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/internal/dockerclient"
	"github.com/stack-deploy/stack/manifest"
)

// openKube deploys to the cluster of the environment's kubeconfig context
// (KUBECONFIG as kubectl reads it; the current context when it names
// none), into its namespace:. Images are built on the local engine and
// pushed by digest to the registry the nodes pull from, as for a Swarm: the
// Swarm driver's image resolution over the local engine does it.
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
	images, err := swarm.New(swarm.WithClient(local), swarm.WithImages(t.Builder, local))
	if err != nil {
		t.Close()
		return nil, err
	}
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

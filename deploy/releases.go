package deploy

import (
	"context"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/registry"
)

// Running reads what project runs where t deploys, the images of every
// replica by service (engine.ReleaseReader): which release runs.
func (t *Target) Running(ctx context.Context, project string) (registry.Running, error) {
	r, err := engine.Capability[engine.ReleaseReader](t.Driver, "releases")
	if err != nil {
		return nil, err
	}
	return r.RunningImages(ctx, project)
}

package docker

import (
	"slices"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stack-deploy/stack/engine"
)

// runService is the service as its one-off runs it: o's user, working
// directory, labels, capabilities, volumes and ports applied, as compose
// run applies them, on a copy (the project's service is left as it was).
func runService(svc types.ServiceConfig, o engine.RunOptions) types.ServiceConfig {
	if o.User != "" {
		svc.User = o.User
	}
	if o.WorkingDir != "" {
		svc.WorkingDir = o.WorkingDir
	}
	if len(o.Labels) > 0 {
		svc.Labels = o.WithLabels(svc.Labels)
	}
	svc.CapAdd, svc.CapDrop = o.Capabilities(svc.CapAdd, svc.CapDrop)
	if len(o.Volumes) > 0 {
		svc.Volumes = append(slices.Clone(svc.Volumes), o.Volumes...)
	}
	if len(o.Publish) > 0 {
		svc.Ports = o.Publish
	}
	return svc
}

// dropAliases takes the service's network aliases off the one-off's
// endpoints: without --use-aliases a one-off answers to its own name only,
// so no request meant for the service reaches it.
func dropAliases(sp spec) {
	for _, ep := range sp.network.EndpointsConfig {
		ep.Aliases = nil
	}
	for _, ep := range sp.connect {
		ep.Aliases = nil
	}
}

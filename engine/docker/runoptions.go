package docker

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

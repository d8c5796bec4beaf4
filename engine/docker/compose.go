package docker

import (
	"strconv"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/stack-deploy/stack/engine"
)

// The labels Docker Compose puts on what it creates (docker/compose's
// pkg/api/labels.go): Observe reads them so stack can take over a project
// Compose deployed. Stack never writes them: Compose would take its
// containers for its own.
const (
	composeProject         = "com.docker.compose.project"
	composeService         = "com.docker.compose.service"
	composeContainerNumber = "com.docker.compose.container-number"
	composeOneoff          = "com.docker.compose.oneoff"
	composeNetwork         = "com.docker.compose.network"
	composeVolume          = "com.docker.compose.volume"
	// Compose's lifecycle-hook runners and provider relays are no
	// service's replicas.
	composeHook  = "com.docker.compose.hook"
	composeRelay = "com.docker.compose.relay"
)

// composeFilter selects the resources Docker Compose labelled with project.
func composeFilter(project string) filters.Args {
	return filters.NewArgs(filters.Arg("label", composeProject+"="+project))
}

// composeLabels maps the labels of a container Docker Compose created to
// stack's, so it is read as the replica, or one-off, it is. Its config hash
// is Compose's, which stack's cannot match: Diff replaces the container
// because it is Compose's, whatever its configuration.
func composeLabels(c container.Summary) container.Summary {
	l := c.Labels
	oneoff := l[composeOneoff] == "True" || l[composeHook] != "" || l[composeRelay] != ""
	c.Labels = map[string]string{
		engine.LabelProject:         l[composeProject],
		engine.LabelService:         l[composeService],
		engine.LabelContainerNumber: l[composeContainerNumber],
		engine.LabelOneoff:          strconv.FormatBool(oneoff),
	}
	return c
}

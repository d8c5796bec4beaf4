package swarm

import (
	"github.com/docker/docker/api/types/filters"

	"github.com/stack-deploy/stack/engine"
)

// Labels on Swarm objects beyond engine's: the compose key a secret or
// config object was made from (its name carries a content hash).
const (
	LabelSecret = "io.stack.secret"
	LabelConfig = "io.stack.config"
)

// MinAPIVersion is the oldest manager API the mapping supports: Docker 20.10,
// the first with jobs, capabilities, ulimits and pids limits on services.
const MinAPIVersion = "1.41"

// ServiceName is the Swarm service of a compose service: <project>_<service>,
// as docker stack deploy names it. Its tasks' containers are named after it.
func ServiceName(project, service string) string {
	return project + "_" + service
}

// ProjectFilter selects the objects labelled with project.
func ProjectFilter(project string) filters.Args {
	return filters.NewArgs(filters.Arg("label", engine.LabelProject+"="+project))
}

package docker

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/docker/docker/api/types/filters"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
)

// ContainerName is the name of replica number of service, as Compose names
// it: <project>-<service>-<number>.
func ContainerName(project, service string, number int) string {
	return fmt.Sprintf("%s-%s-%d", project, service, number)
}

// ProjectFilter selects the resources labelled with project.
func ProjectFilter(project string) filters.Args {
	return filters.NewArgs(filters.Arg("label", engine.LabelProject+"="+project))
}

// containerLabels are the labels stack puts on a service container.
// The compose files go on it too, for `stack ls`; they are not part of
// the config hash.
func containerLabels(p *manifest.Project, service string, number int, a *engine.Action) map[string]string {
	return map[string]string{
		engine.LabelProject:         p.Name,
		engine.LabelConfigFiles:     strings.Join(p.ComposeFiles, ","),
		engine.LabelService:         service,
		engine.LabelContainerNumber: strconv.Itoa(number),
		engine.LabelConfigHash:      a.ConfigHash,
		engine.LabelConfigParts:     a.ConfigParts,
		engine.LabelOneoff:          "false",
	}
}

package engine

// Labels stack puts on every resource it creates. Observation finds a stack's
// resources by LabelProject alone, so two stacks never touch each other's.
const (
	// LabelProject holds the project name.
	LabelProject = "io.stack.project"
	// LabelService holds the service a container belongs to.
	LabelService = "io.stack.service"
	// LabelConfigHash holds ConfigHash of the service config the container
	// was created from.
	LabelConfigHash = "io.stack.config-hash"
	// LabelConfigParts holds the per-field hashes behind LabelConfigHash, so
	// a plan can say which fields changed ("environment changed").
	LabelConfigParts = "io.stack.config-parts"
	// LabelContainerNumber holds the replica number, 1-based.
	LabelContainerNumber = "io.stack.container-number"
	// LabelOneoff is "true" on containers started by `stack run`.
	LabelOneoff = "io.stack.oneoff"
	// LabelNetwork holds a network's key in the compose file.
	LabelNetwork = "io.stack.network"
	// LabelVolume holds a volume's key in the compose file.
	LabelVolume = "io.stack.volume"
	// LabelConfigFiles holds the absolute paths of the compose files a
	// container was created from, comma-separated, in order (`stack ls`).
	LabelConfigFiles = "io.stack.config-files"
	// LabelPreviousLogs marks a volume that keeps the last lines of a
	// replaced container, and holds them (engine/docker/previous.go).
	LabelPreviousLogs = "io.stack.previous-logs"
)

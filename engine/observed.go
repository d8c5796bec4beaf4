package engine

// Observed is what the engine holds for one project, read once per run by
// Driver.Observe from the resources carrying the project's label.
type Observed struct {
	Containers []Container
	Networks   []Resource
	Volumes    []Resource
}

// Container is one observed container of the project.
type Container struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Service string `json:"service"`
	Number  int    `json:"number"`
	OneOff  bool   `json:"oneoff,omitempty"`
	// Hash and Parts are the LabelConfigHash and LabelConfigParts values.
	Hash  string `json:"-"`
	Parts string `json:"-"`
	// State is the engine's state: created, running, exited, ...
	State string `json:"state"`
	// Health is healthy, unhealthy, starting or empty without a healthcheck.
	Health   string `json:"health,omitempty"`
	ExitCode int    `json:"exit_code,omitempty"`
}

// Running reports whether the container runs.
func (c Container) Running() bool { return c.State == "running" || c.State == "restarting" }

// Completed reports whether the container ran to completion with exit code 0.
func (c Container) Completed() bool { return c.State == "exited" && c.ExitCode == 0 }

// Resource is an observed network or volume: Key is its name in the compose
// file (the LabelNetwork/LabelVolume value), Name the engine's name.
type Resource struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	ID   string `json:"id,omitempty"`
	// Hash is its LabelConfigHash: ResourceHash of the definition it was
	// created from; empty if it has none.
	Hash string `json:"-"`
}

// ServiceContainers returns the observed service containers (not one-offs)
// of service, by container number.
func (o *Observed) ServiceContainers(service string) []Container {
	var out []Container
	for _, c := range o.Containers {
		if c.Service == service && !c.OneOff {
			out = append(out, c)
		}
	}
	sortContainers(out)
	return out
}

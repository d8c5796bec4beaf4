package engine

import "time"

// Observed is what the engine holds for one project, read once per run by
// Driver.Observe: the resources carrying the project's label, and the
// networks and volumes named as the project's that it did not create.
type Observed struct {
	Containers []Container
	Networks   []Resource
	Volumes    []Resource
	// Driver is what the driver read beyond these, in its own terms, for
	// its Operations (a Swarm: each service's ID, version and task counts,
	// the secrets and configs); the planner never reads it.
	Driver any
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
	// Temporary marks a container under the name a replacement gives the
	// new container until the old one is gone: a replacement that did not
	// finish (the process was killed).
	Temporary bool `json:"temporary,omitempty"`
	// Created orders containers of one number: the newest temporary one
	// is kept when none has the service's name.
	Created time.Time `json:"-"`
	// Networks are the networks the container is attached to, by the
	// engine's name; nil when the driver does not observe them.
	Networks map[string]Endpoint `json:"-"`
	// Volumes are the names of the volumes it mounts; Anonymous those of
	// them an image's VOLUME made, which a replacement mounts again.
	Volumes   []string `json:"-"`
	Anonymous []Mount  `json:"-"`
}

// Endpoint is a container's attachment to one network.
type Endpoint struct {
	NetworkID string
	// Aliases are the names it answers to there; nil when not observed.
	Aliases []string
}

// Mount is a volume mounted in a container.
type Mount struct {
	Name   string `json:"name"`
	Target string `json:"target"`
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
	// Foreign marks one that carries the name of a resource of the project
	// but not the project's label: stack did not create it. Key is the
	// compose key whose name it has.
	Foreign bool `json:"foreign,omitempty"`
	// Created orders duplicates of one network.
	Created time.Time `json:"-"`
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

// usedNetworks and usedVolumes name what the project's containers use: a
// network or volume that stack did not create but that its containers use
// was adopted by an earlier run.
func (o *Observed) usedNetworks() map[string]bool {
	used := map[string]bool{}
	for _, c := range o.Containers {
		for name, ep := range c.Networks {
			used[name] = true
			used[ep.NetworkID] = true
		}
	}
	return used
}

func (o *Observed) usedVolumes() map[string]bool {
	used := map[string]bool{}
	for _, c := range o.Containers {
		for _, v := range c.Volumes {
			used[v] = true
		}
	}
	return used
}

package engine

import (
	"fmt"
	"time"
)

// Observed is what the engine holds for one project, read once per run by
// Driver.Observe, in terms every orchestrator has: each service's state,
// the networks and volumes carrying the project's label, those another tool
// created for a project of the same name (Docker Compose: a project stack
// takes over), those named as the project's that neither created, and the
// gateway. What a driver reads beyond that (a Docker engine's containers, a
// Swarm's services and tasks) it keeps in Driver for its Operations.
type Observed struct {
	// Services are the project's services on the engine, one-off runs
	// apart, by name; orphans (services gone from the manifest) included.
	Services []ServiceState
	Networks []Resource
	Volumes  []Resource
	// Gateway is the project's gateway; nil when it has none.
	Gateway *Gateway
	// Driver is what the driver read beyond these, in its own terms, for
	// its Operations (a Docker engine: the containers, by number; a Swarm:
	// each service's ID, version and task counts, the secrets and
	// configs); the planner never reads it.
	Driver any
}

// ServiceState is what an engine holds of one service, in terms every
// orchestrator has: how many replicas, how many run, the configurations
// they were made from, and what is wrong with them. Diff decides each
// service's action from it alone; how the engine carries the action out
// (which container, task or pod) is the driver's, in Operations, from what
// it keeps in Observed.Driver.
type ServiceState struct {
	Name string `json:"name"`
	// OneOff marks the state of the service's one-off runs (`stack run`),
	// kept apart from the service's own replicas.
	OneOff bool `json:"oneoff,omitempty"`
	// Replicas is how many replicas the engine keeps for the service
	// (containers by number, a Swarm service's or a Deployment's desired
	// count), Running how many of them run, Completed how many ran to
	// completion with exit code 0.
	Replicas  int `json:"replicas"`
	Running   int `json:"running"`
	Completed int `json:"completed,omitempty"`
	// Versions are the configurations the replicas were made from (their
	// config hash and its parts), with how many replicas each.
	Versions []Version `json:"versions,omitempty"`
	// Stopped says why replicas that do not run stopped: "exited with code
	// 1", "paused"; empty when all run.
	Stopped string `json:"stopped,omitempty"`
	// Broken says why replicas cannot run again as they are ("container
	// is dead"): they are replaced.
	Broken string `json:"broken,omitempty"`
	// Foreign says why replicas whose configuration is current are
	// replaced anyway: another tool made them ("created by Docker
	// Compose"), and their labels cannot change.
	Foreign string `json:"foreign,omitempty"`
	// Drift says what differs from the replicas' spec that a repair puts
	// right without replacing them: a network disconnected, an alias
	// missing, a leftover of an interrupted replacement.
	Drift string `json:"drift,omitempty"`
	// Networks are the engine names and IDs of the networks the replicas
	// are attached to, Volumes the names of the volumes they mount.
	Networks []string `json:"-"`
	Volumes  []string `json:"-"`
}

// Version is one configuration a service's replicas were made from.
type Version struct {
	// Hash and Parts are the LabelConfigHash and LabelConfigParts values.
	Hash  string `json:"hash"`
	Parts string `json:"-"`
	Count int    `json:"count"`
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
	// Compose marks one Docker Compose created (its project label, not
	// stack's): stack replaces it with one of its own, which carries its
	// labels, on the next up.
	Compose bool `json:"compose,omitempty"`
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

// NotRunning says why the container does not run: "exited with code 1",
// "paused", "created, not running".
func (c Container) NotRunning() string {
	switch c.State {
	case "exited":
		return fmt.Sprintf("exited with code %d", c.ExitCode)
	case "paused":
		return "paused"
	default:
		return c.State + ", not running"
	}
}

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
	// Compose marks one Docker Compose created for a project of this name
	// (Key from its com.docker.compose labels): the project's, adopted as
	// it is, since an engine cannot relabel a network or volume.
	Compose bool `json:"compose,omitempty"`
	// Created orders duplicates of one network.
	Created time.Time `json:"-"`
}

// Service returns the state of service's own replicas (not its one-off
// runs); nil when the engine has none.
func (o *Observed) Service(service string) *ServiceState {
	for i := range o.Services {
		if s := &o.Services[i]; s.Name == service && !s.OneOff {
			return s
		}
	}
	return nil
}

// usedNetworks and usedVolumes name what the project's services use (with
// foreign, also those of replicas another tool made): a network or volume
// that stack did not create but that the project's replicas use was
// adopted by an earlier run.
func (o *Observed) usedNetworks(foreign bool) map[string]bool {
	used := map[string]bool{}
	for _, s := range o.Services {
		if s.Foreign != "" && !foreign {
			continue
		}
		for _, n := range s.Networks {
			used[n] = true
		}
	}
	return used
}

func (o *Observed) usedVolumes(foreign bool) map[string]bool {
	used := map[string]bool{}
	for _, s := range o.Services {
		if s.Foreign != "" && !foreign {
			continue
		}
		for _, v := range s.Volumes {
			used[v] = true
		}
	}
	return used
}

// Gateway is the observed gateway of a project: its container, and the
// routes it was last configured with (their hash; empty when unknown).
type Gateway struct {
	Container  Container `json:"container"`
	RoutesHash string    `json:"-"`
}

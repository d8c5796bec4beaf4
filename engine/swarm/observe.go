package swarm

import (
	"context"
	"fmt"
	"sort"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"

	"github.com/stack-deploy/stack/engine"
)

// Observed is what a Swarm manager holds for a project, found by its
// io.stack.project label. Volumes are not there: they live on the nodes.
type Observed struct {
	Services []ObservedService // sorted by Service
	Networks []ObservedNetwork // sorted by Key
	Secrets  []ObservedObject  // sorted by Name
	Configs  []ObservedObject  // sorted by Name
}

// ObservedService is one Swarm service of the project.
type ObservedService struct {
	ID   string
	Name string // the Swarm name, <project>_<service>
	// Service is the compose service (engine.LabelService).
	Service string
	// Version is the spec version an update must name.
	Version uint64
	// Hash and Parts are the labels the spec was made with
	// (engine.LabelConfigHash, engine.LabelConfigParts): equal to the
	// desired Service.Hash, nothing needs to change.
	Hash, Parts string
	// Image is the reference the tasks run, repo@sha256:...
	Image string
	// Mode is replicated, global, replicated-job or global-job; Replicas is
	// the desired count of a replicated service or job.
	Mode     string
	Replicas *uint64
	// Running and Desired count tasks; Completed counts a job's finished ones.
	Running, Desired, Completed uint64
	// UpdateState is Swarm's last update state (updating, completed,
	// rollback_completed, paused ...) and UpdateMessage its explanation;
	// empty when the service was never updated.
	UpdateState, UpdateMessage string
}

// ObservedNetwork is one network of the project.
type ObservedNetwork struct {
	ID, Name string
	Key      string // the compose key (engine.LabelNetwork)
	Hash     string // engine.LabelConfigHash
	Driver   string
}

// ObservedObject is one secret or config of the project.
type ObservedObject struct {
	ID, Name string
	Key      string // the compose key (LabelSecret or LabelConfig)
}

// Observe reads the project's services, networks, secrets and configs from
// a manager: one list call each, filtered by the project label.
func Observe(ctx context.Context, c Client, project string) (*Observed, error) {
	f := ProjectFilter(project)
	services, err := c.ServiceList(ctx, swarm.ServiceListOptions{Filters: f, Status: true})
	if err != nil {
		return nil, fmt.Errorf("listing the services of %q: %w", project, err)
	}
	networks, err := c.NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("listing the networks of %q: %w", project, err)
	}
	secrets, err := c.SecretList(ctx, swarm.SecretListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("listing the secrets of %q: %w", project, err)
	}
	configs, err := c.ConfigList(ctx, swarm.ConfigListOptions{Filters: f})
	if err != nil {
		return nil, fmt.Errorf("listing the configs of %q: %w", project, err)
	}
	o := &Observed{}
	for _, s := range services {
		o.Services = append(o.Services, observeService(s))
	}
	for _, n := range networks {
		o.Networks = append(o.Networks, ObservedNetwork{ID: n.ID, Name: n.Name, Key: n.Labels[engine.LabelNetwork], Hash: n.Labels[engine.LabelConfigHash], Driver: n.Driver})
	}
	for _, s := range secrets {
		o.Secrets = append(o.Secrets, ObservedObject{ID: s.ID, Name: s.Spec.Name, Key: s.Spec.Labels[LabelSecret]})
	}
	for _, c := range configs {
		o.Configs = append(o.Configs, ObservedObject{ID: c.ID, Name: c.Spec.Name, Key: c.Spec.Labels[LabelConfig]})
	}
	sort.Slice(o.Services, func(i, j int) bool { return o.Services[i].Service < o.Services[j].Service })
	sort.Slice(o.Networks, func(i, j int) bool { return o.Networks[i].Key < o.Networks[j].Key })
	sort.Slice(o.Secrets, func(i, j int) bool { return o.Secrets[i].Name < o.Secrets[j].Name })
	sort.Slice(o.Configs, func(i, j int) bool { return o.Configs[i].Name < o.Configs[j].Name })
	return o, nil
}

func observeService(s swarm.Service) ObservedService {
	labels := s.Spec.Labels
	o := ObservedService{
		ID: s.ID, Name: s.Spec.Name, Service: labels[engine.LabelService], Version: s.Version.Index,
		Hash: labels[engine.LabelConfigHash], Parts: labels[engine.LabelConfigParts],
	}
	if cs := s.Spec.TaskTemplate.ContainerSpec; cs != nil {
		o.Image = cs.Image
	}
	switch m := s.Spec.Mode; {
	case m.Replicated != nil:
		o.Mode, o.Replicas = "replicated", m.Replicated.Replicas
	case m.Global != nil:
		o.Mode = "global"
	case m.ReplicatedJob != nil:
		o.Mode, o.Replicas = "replicated-job", m.ReplicatedJob.TotalCompletions
	case m.GlobalJob != nil:
		o.Mode = "global-job"
	}
	if st := s.ServiceStatus; st != nil {
		o.Running, o.Desired, o.Completed = st.RunningTasks, st.DesiredTasks, st.CompletedTasks
	}
	if u := s.UpdateStatus; u != nil {
		o.UpdateState, o.UpdateMessage = string(u.State), u.Message
	}
	return o
}

package swarm

import (
	"context"
	"fmt"
	"sort"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"

	"github.com/stack-deploy/stack/engine"
)

// Observed is what a Swarm manager holds for a project, found by its
// io.stack.project label. Volumes are not there: they live on the nodes;
// what the services mount stands for them.
type Observed struct {
	Services []ObservedService // sorted by Service
	Networks []ObservedNetwork // sorted by Key
	// Others are the swarm-scoped networks without the project's label
	// (made by hand, or by another tool), sorted by Name: one named as a
	// network of the project is used as it is, never made a second time.
	Others  []ObservedNetwork
	Secrets []ObservedObject // sorted by Name
	Configs []ObservedObject // sorted by Name
}

// ObservedService is one Swarm service of the project.
type ObservedService struct {
	ID   string
	Name string // the Swarm name, <project>_<service>
	// Service is the compose service (engine.LabelService); OneOff marks
	// a job `stack run` made of it.
	Service string
	OneOff  bool
	// Version is the spec version an update must name; ForceUpdate the
	// counter an update that restarts the tasks raises.
	Version     uint64
	ForceUpdate uint64
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
	// Secrets and Configs name the objects the spec mounts; Volumes are
	// its named volumes.
	Secrets, Configs []string
	Volumes          []ObservedVolume
	// Networks are the networks its tasks join (by ID or name, as the
	// manager keeps them), with their aliases there.
	Networks []ObservedAttachment
	// Failure is why a job that neither runs nor completed failed, and
	// ExitCode its last task's exit code.
	Failure  string
	ExitCode int
}

// ObservedAttachment is a network a service's tasks join.
type ObservedAttachment struct {
	Target  string
	Aliases []string
}

// ObservedVolume is a named volume a service mounts, as its mount labels
// it (every node creates it from them).
type ObservedVolume struct {
	Name, Key, Hash string
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

// Job reports whether the service runs to completion.
func (s ObservedService) Job() bool { return s.Mode == "replicated-job" || s.Mode == "global-job" }

// Complete reports whether a job ran to completion: every task it asks
// for completed, none runs.
func (s ObservedService) Complete() bool {
	want := uint64(1)
	if s.Mode == "replicated-job" && s.Replicas != nil {
		want = *s.Replicas
	}
	return s.Job() && s.Running == 0 && s.Completed >= want
}

// Converged reports whether the service is as its spec asks, so that
// nothing need be waited for: a job complete; otherwise every desired task
// running (and healthy, which Swarm counts as running) and no update or
// rollback under way.
func (s ObservedService) Converged() bool {
	if s.Job() {
		return s.Complete()
	}
	switch s.UpdateState {
	case string(swarm.UpdateStateUpdating), string(swarm.UpdateStateRollbackStarted):
		return false
	}
	return s.Running >= s.Desired
}

// Observe reads the project's services, networks, secrets and configs from
// a manager: one list call each, filtered by the project label (networks:
// every swarm-scoped one, to find those named as the project's), and the
// tasks of jobs that failed, for their exit codes.
func Observe(ctx context.Context, c Client, project string) (*Observed, error) {
	f := ProjectFilter(project)
	services, err := c.ServiceList(ctx, swarm.ServiceListOptions{Filters: f, Status: true})
	if err != nil {
		return nil, fmt.Errorf("listing the services of %q: %w", project, err)
	}
	networks, err := c.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("scope", "swarm"))})
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
		os := observeService(s)
		if os.Job() && !os.Complete() && os.Running == 0 {
			if err := jobFailure(ctx, c, &os); err != nil {
				return nil, err
			}
		}
		o.Services = append(o.Services, os)
	}
	for _, n := range networks {
		on := ObservedNetwork{ID: n.ID, Name: n.Name, Key: n.Labels[engine.LabelNetwork], Hash: n.Labels[engine.LabelConfigHash], Driver: n.Driver}
		if n.Labels[engine.LabelProject] == project {
			o.Networks = append(o.Networks, on)
		} else {
			o.Others = append(o.Others, on)
		}
	}
	for _, s := range secrets {
		o.Secrets = append(o.Secrets, ObservedObject{ID: s.ID, Name: s.Spec.Name, Key: s.Spec.Labels[LabelSecret]})
	}
	for _, c := range configs {
		o.Configs = append(o.Configs, ObservedObject{ID: c.ID, Name: c.Spec.Name, Key: c.Spec.Labels[LabelConfig]})
	}
	sort.Slice(o.Services, func(i, j int) bool { return o.Services[i].Service < o.Services[j].Service })
	sort.Slice(o.Networks, func(i, j int) bool { return o.Networks[i].Key < o.Networks[j].Key })
	sort.Slice(o.Others, func(i, j int) bool { return o.Others[i].Name < o.Others[j].Name })
	sort.Slice(o.Secrets, func(i, j int) bool { return o.Secrets[i].Name < o.Secrets[j].Name })
	sort.Slice(o.Configs, func(i, j int) bool { return o.Configs[i].Name < o.Configs[j].Name })
	return o, nil
}

func observeService(s swarm.Service) ObservedService {
	labels := s.Spec.Labels
	o := ObservedService{
		ID: s.ID, Name: s.Spec.Name, Service: labels[engine.LabelService], OneOff: labels[engine.LabelOneoff] == "true", Version: s.Version.Index,
		ForceUpdate: s.Spec.TaskTemplate.ForceUpdate,
		Hash:        labels[engine.LabelConfigHash], Parts: labels[engine.LabelConfigParts],
	}
	if cs := s.Spec.TaskTemplate.ContainerSpec; cs != nil {
		o.Image = cs.Image
		for _, r := range cs.Secrets {
			o.Secrets = append(o.Secrets, r.SecretName)
		}
		for _, r := range cs.Configs {
			o.Configs = append(o.Configs, r.ConfigName)
		}
		for _, m := range cs.Mounts {
			if m.Type != mount.TypeVolume || m.Source == "" || m.VolumeOptions == nil {
				continue
			}
			if key := m.VolumeOptions.Labels[engine.LabelVolume]; key != "" {
				o.Volumes = append(o.Volumes, ObservedVolume{Name: m.Source, Key: key, Hash: m.VolumeOptions.Labels[engine.LabelConfigHash]})
			}
		}
	}
	for _, n := range s.Spec.TaskTemplate.Networks {
		o.Networks = append(o.Networks, ObservedAttachment{Target: n.Target, Aliases: n.Aliases})
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

// jobFailure reads why a job that neither runs nor completed stopped: the
// newest task that failed, its error and exit code; a job whose tasks are
// still to be scheduled has none.
func jobFailure(ctx context.Context, c Client, s *ObservedService) error {
	tasks, err := c.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", s.ID))})
	if err != nil {
		return fmt.Errorf("listing the tasks of %s: %w", s.Name, err)
	}
	var last *swarm.Task
	for i, t := range tasks {
		if taskFailed(t.Status.State) && (last == nil || t.Status.Timestamp.After(last.Status.Timestamp)) {
			last = &tasks[i]
		}
	}
	if last == nil {
		return nil
	}
	s.Failure, s.ExitCode = taskError(*last), 1
	if cs := last.Status.ContainerStatus; cs != nil && cs.ExitCode != 0 {
		s.ExitCode = cs.ExitCode
	}
	return nil
}

// taskFailed reports whether a task in state st ended without completing.
func taskFailed(st swarm.TaskState) bool {
	return st == swarm.TaskStateFailed || st == swarm.TaskStateRejected
}

// taskError is what a task says went wrong: its error, else its message.
func taskError(t swarm.Task) string {
	if t.Status.Err != "" {
		return t.Status.Err
	}
	return t.Status.Message
}

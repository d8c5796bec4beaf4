package swarm

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/stack-deploy/stack/engine"
)

// TestJudge: what one reading of the manager says of a wait, with the
// message people see.
func TestJudge(t *testing.T) {
	three, one := uint64(3), uint64(1)
	template := swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "reg/web@sha256:2"}}
	old := swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "reg/web@sha256:1"}}
	web := func(hash string, u *swarm.UpdateStatus) swarm.Service {
		return swarm.Service{
			ID: "w", UpdateStatus: u,
			Spec: swarm.ServiceSpec{
				Annotations:  swarm.Annotations{Name: "shop_web", Labels: map[string]string{engine.LabelConfigHash: hash}},
				TaskTemplate: template, Mode: swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &three}},
			},
		}
	}
	task := func(slot int, node string, spec swarm.TaskSpec, st swarm.TaskState, err string) swarm.Task {
		return swarm.Task{Slot: slot, NodeID: node, Spec: spec, DesiredState: swarm.TaskStateRunning, Status: swarm.TaskStatus{State: st, Err: err, Timestamp: time.Unix(int64(slot), 0)}}
	}
	running := func(slot int, node string) swarm.Task { return task(slot, node, template, swarm.TaskStateRunning, "") }
	job := swarm.Service{
		ID: "m", JobStatus: &swarm.JobStatus{JobIteration: swarm.Version{Index: 4}},
		Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "shop_migrate"}, TaskTemplate: template,
			Mode: swarm.ServiceMode{ReplicatedJob: &swarm.ReplicatedJob{TotalCompletions: &one}}},
	}
	jobTask := func(iteration uint64, st swarm.TaskState, err string, code int) swarm.Task {
		tk := task(1, "n1", template, st, err)
		tk.JobIteration = &swarm.Version{Index: iteration}
		tk.Status.ContainerStatus = &swarm.ContainerStatus{ExitCode: code}
		return tk
	}
	tests := []struct {
		name    string
		svc     swarm.Service
		tasks   []swarm.Task
		wait    waitService
		done    bool
		err     error
		status  string
		errText string
	}{
		{
			name: "converged", svc: web("h2", nil), wait: waitService{hash: "h2"},
			tasks: []swarm.Task{running(1, "n1"), running(2, "n2"), running(3, "n2")},
			done:  true, status: "3/3 running on node-1, node-2",
		},
		{
			name: "old tasks do not count", svc: web("h2", nil), wait: waitService{hash: "h2", update: true},
			tasks:  []swarm.Task{task(1, "n1", old, swarm.TaskStateRunning, ""), running(2, "n1")},
			status: "1/3 running on node-1",
		},
		{
			name: "pending says why", svc: web("h2", nil), wait: waitService{hash: "h2"},
			tasks:  []swarm.Task{running(1, "n1"), task(2, "", template, swarm.TaskStatePending, "no suitable node (insufficient memory on 3 nodes)")},
			status: "1/3 running on node-1; task shop_web.2 pending: no suitable node (insufficient memory on 3 nodes)",
		},
		{
			name: "updating", svc: web("h2", &swarm.UpdateStatus{State: swarm.UpdateStateUpdating}), wait: waitService{hash: "h2", update: true},
			tasks:  []swarm.Task{running(1, "n1"), running(2, "n2"), running(3, "n3")},
			status: "updating: 3/3 of the new version running on node-1, node-2, node-3",
		},
		{
			name: "a new service's tasks keep failing", svc: web("h2", nil), wait: waitService{service: "web", hash: "h2"},
			tasks: []swarm.Task{
				task(1, "n1", template, swarm.TaskStateRejected, "No such image: reg/web@sha256:2"),
				task(1, "n2", template, swarm.TaskStateRejected, "No such image: reg/web@sha256:2"),
				task(1, "n3", template, swarm.TaskStateRejected, "No such image: reg/web@sha256:2"),
			},
			err: ErrTaskFailed, errText: `service "web": task failed: 3 of its tasks failed, the last: task shop_web.1 rejected: No such image: reg/web@sha256:2`,
		},
		{
			name: "rolling back", svc: web("h1", &swarm.UpdateStatus{State: swarm.UpdateStateRollbackStarted, Message: "update rolled back due to failure of task x"}),
			wait:   waitService{service: "web", hash: "h2", update: true},
			status: "the update failed; Swarm is rolling it back: update rolled back due to failure of task x",
		},
		{
			name: "rolled back", svc: web("h1", &swarm.UpdateStatus{State: swarm.UpdateStateRollbackCompleted, Message: "rollback completed"}),
			wait: waitService{service: "web", hash: "h2", update: true},
			err:  ErrRolledBack, errText: "and Swarm rolled it back: the previous version runs",
		},
		{
			name: "paused", svc: web("h2", &swarm.UpdateStatus{State: swarm.UpdateStatePaused, Message: "update paused due to failure"}),
			wait: waitService{service: "web", hash: "h2", update: true},
			err:  ErrTaskFailed, errText: "Swarm paused the update (update paused due to failure)",
		},
		{
			name: "changed by another deploy", svc: web("h9", nil), wait: waitService{service: "web", hash: "h2"},
			errText: "was changed by another deploy",
		},
		{
			name: "job complete", svc: job, wait: waitService{service: "migrate", cond: engine.Completed},
			tasks: []swarm.Task{jobTask(3, swarm.TaskStateFailed, "old run", 1), jobTask(4, swarm.TaskStateComplete, "", 0)},
			done:  true, status: "1/1 completed",
		},
		{
			name: "job failed", svc: job, wait: waitService{service: "migrate", cond: engine.Completed},
			tasks: []swarm.Task{jobTask(4, swarm.TaskStateFailed, "task: non-zero exit (2)", 2)},
			err:   ErrTaskFailed, errText: `service "migrate": task failed: task shop_migrate.1 failed: task: non-zero exit (2)`,
		},
		{
			name: "removed", svc: swarm.Service{}, wait: waitService{cond: removed, name: "shop_gone"}, done: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &snapshot{services: map[string]swarm.Service{}, tasks: map[string][]swarm.Task{}, nodes: map[string]string{"n1": "node-1", "n2": "node-2", "n3": "node-3"}}
			if tt.svc.Spec.Name != "" {
				s.services[tt.svc.Spec.Name] = tt.svc
				s.tasks[tt.svc.ID] = tt.tasks
			}
			if tt.wait.name == "" {
				tt.wait.name = tt.svc.Spec.Name
			}
			if tt.wait.cond == "" {
				tt.wait.cond = engine.Started
			}
			v := judge(s, &tt.wait)
			if v.done != tt.done || (tt.status != "" && v.status != tt.status) {
				t.Errorf("done %v, status %q; want %v, %q", v.done, v.status, tt.done, tt.status)
			}
			switch {
			case tt.errText == "" && v.err != nil:
				t.Errorf("error %v", v.err)
			case tt.errText != "" && (v.err == nil || !strings.Contains(v.err.Error(), tt.errText)):
				t.Errorf("error %v, want one saying %q", v.err, tt.errText)
			case tt.err != nil && !errors.Is(v.err, tt.err):
				t.Errorf("error %v, want %v", v.err, tt.err)
			}
		})
	}
}

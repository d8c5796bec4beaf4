package swarm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/swarm"

	"github.com/stack-deploy/stack/engine"
)

// failedTasks is how many of a new service's tasks may fail before its
// wait gives up (Swarm would go on replacing them for ever); an update's
// failures are Swarm's to judge, by its update_config.
const failedTasks = 3

// verdict is what one snapshot says of a wait: done, failed (err), or
// neither, with where it stands for people.
type verdict struct {
	done   bool
	err    error
	status string
	// why is Swarm's reason for a rollback under way, which the message
	// once it completed no longer gives.
	why string
}

// waitService returns once the service is as w says, reporting where it
// stands whenever that changes ("2/3 running on node-1, node-2; 1 pending:
// no suitable node (insufficient memory on 3 nodes)"). Only readings taken
// after the wait began count: an older one predates the call it follows.
func (x *executor) waitService(ctx context.Context, w *waitService, notes engine.Notes) error {
	if x.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, x.opts.Timeout, engine.ErrTimeout)
		defer cancel()
	}
	wt := x.watcher(context.WithoutCancel(ctx))
	since, last, why := time.Now(), "", ""
	for {
		s := wt.after(ctx, since)
		if s == nil {
			break
		}
		if s.err != nil {
			return fmt.Errorf("waiting for service %s: reading its tasks: %w", w.name, s.err)
		}
		v := judge(s, w)
		if v.status != last && v.status != "" {
			last = v.status
			notes.Status(v.status)
		}
		if v.why != "" {
			why = v.why
		}
		if v.err != nil && errors.Is(v.err, ErrRolledBack) && why != "" {
			return fmt.Errorf("%w: %s", v.err, why)
		}
		if v.done || v.err != nil {
			return v.err
		}
		since = s.at.Add(time.Nanosecond)
	}
	if errors.Is(context.Cause(ctx), engine.ErrTimeout) {
		return fmt.Errorf("service %q: not %s after %s (--timeout): %w; %s", w.service, w.cond, x.opts.Timeout, engine.ErrTimeout, last)
	}
	return ctx.Err()
}

// judge decides a wait from one snapshot.
func judge(s *snapshot, w *waitService) verdict {
	svc, ok := s.services[w.name]
	if w.cond == removed {
		if !ok {
			return verdict{done: true}
		}
		return verdict{status: "removing"}
	}
	if !ok {
		return verdict{err: fmt.Errorf("service %q: %s was removed while stack waited for it", w.service, w.name)}
	}
	u := svc.UpdateStatus
	state := swarm.UpdateState("")
	if u != nil {
		state = u.State
	}
	if w.hash != "" && svc.Spec.Labels[engine.LabelConfigHash] != w.hash {
		msg := ""
		if u != nil {
			msg = u.Message
		}
		switch state {
		case swarm.UpdateStateRollbackStarted:
			return verdict{status: "the update failed; Swarm is rolling it back: " + msg, why: msg}
		case swarm.UpdateStateRollbackCompleted:
			return verdict{err: fmt.Errorf("service %q: %w: the new version failed%s, and Swarm rolled it back: the previous version runs (stack ps -a shows the tasks)", w.service, ErrRolledBack, failures(s, svc))}
		case swarm.UpdateStateRollbackPaused:
			return verdict{err: fmt.Errorf("service %q: %w, and the rollback paused (%s): fix the service and run stack up again", w.service, ErrRolledBack, msg)}
		}
		return verdict{err: fmt.Errorf("service %q: %s was changed by another deploy while stack waited for it", w.service, w.name)}
	}
	if state == swarm.UpdateStatePaused {
		return verdict{err: fmt.Errorf("service %q: %w: Swarm paused the update (%s)%s; its update_config failure_action is pause: fix it and run stack up again", w.service, ErrTaskFailed, u.Message, failures(s, svc))}
	}
	tasks := current(svc, s.tasks[svc.ID])
	if svc.Spec.Mode.ReplicatedJob != nil || svc.Spec.Mode.GlobalJob != nil {
		return judgeJob(s, svc, w, tasks)
	}
	var running, failed []swarm.Task
	var pending string
	for _, t := range tasks {
		switch {
		case t.Status.State == swarm.TaskStateRunning && t.DesiredState == swarm.TaskStateRunning:
			running = append(running, t)
		case taskFailed(t.Status.State):
			failed = append(failed, t)
		case t.DesiredState == swarm.TaskStateRunning && t.Status.Err != "" && pending == "":
			pending = fmt.Sprintf("%s %s: %s", slotName(svc, t), t.Status.State, t.Status.Err)
		}
	}
	want := uint64(0)
	switch {
	case svc.Spec.Mode.Replicated != nil && svc.Spec.Mode.Replicated.Replicas != nil:
		want = *svc.Spec.Mode.Replicated.Replicas
	case svc.ServiceStatus != nil:
		want = svc.ServiceStatus.DesiredTasks
	}
	status := fmt.Sprintf("%d/%d running", len(running), want)
	if state == swarm.UpdateStateUpdating {
		status = fmt.Sprintf("updating: %d/%d of the new version running", len(running), want)
	}
	if on := nodesOf(s, running); on != "" {
		status += " on " + on
	}
	if pending != "" {
		status += "; " + pending
	}
	if len(failed) > 0 {
		status += fmt.Sprintf("; %d failed, last: %s", len(failed), failureOf(svc, latest(failed)))
	}
	if !w.update && len(failed) >= failedTasks {
		return verdict{status: status, err: fmt.Errorf("service %q: %w: %d of its tasks failed, the last: %s", w.service, ErrTaskFailed, len(failed), failureOf(svc, latest(failed)))}
	}
	done := uint64(len(running)) >= want && state != swarm.UpdateStateUpdating && state != swarm.UpdateStateRollbackStarted
	return verdict{done: done, status: status}
}

// judgeJob decides the wait for a job: done once this run of it completed
// every task it asks for; failed once a task failed and none is left to run.
func judgeJob(s *snapshot, svc swarm.Service, w *waitService, tasks []swarm.Task) verdict {
	var completed, failed, active []swarm.Task
	for _, t := range tasks {
		switch {
		case t.Status.State == swarm.TaskStateComplete:
			completed = append(completed, t)
		case taskFailed(t.Status.State):
			failed = append(failed, t)
		case t.DesiredState != swarm.TaskStateShutdown:
			active = append(active, t)
		}
	}
	want := uint64(1)
	if j := svc.Spec.Mode.ReplicatedJob; j != nil && j.TotalCompletions != nil {
		want = *j.TotalCompletions
	}
	if svc.Spec.Mode.GlobalJob != nil {
		want = uint64(max(1, len(completed)+len(active)+len(failed)))
	}
	status := fmt.Sprintf("%d/%d completed", len(completed), want)
	if len(active) > 0 {
		status += fmt.Sprintf(", %d running", len(active))
		if on := nodesOf(s, active); on != "" {
			status += " on " + on
		}
	}
	if len(failed) > 0 && len(active) == 0 && uint64(len(completed)) < want {
		return verdict{status: status, err: fmt.Errorf("service %q: %w: %s", w.service, ErrTaskFailed, failureOf(svc, latest(failed)))}
	}
	return verdict{done: uint64(len(completed)) >= want, status: status}
}

// current keeps the tasks of the service's current spec: those of its
// present task template (an update's new tasks, not the old ones it
// replaces), and for a job those of its present run.
func current(svc swarm.Service, tasks []swarm.Task) []swarm.Task {
	want := specKey(svc.Spec.TaskTemplate)
	var out []swarm.Task
	for _, t := range tasks {
		if specKey(t.Spec) != want {
			continue
		}
		if j := svc.JobStatus; j != nil && (t.JobIteration == nil || t.JobIteration.Index != j.JobIteration.Index) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// specKey is a task spec as JSON, without its runtime: the manager fills
// that in on the service's template and leaves it out of its tasks'.
func specKey(ts swarm.TaskSpec) string {
	ts.Runtime = ""
	b, _ := json.Marshal(ts)
	return string(b)
}

func latest(ts []swarm.Task) swarm.Task {
	l := ts[0]
	for _, t := range ts[1:] {
		if t.Status.Timestamp.After(l.Status.Timestamp) {
			l = t
		}
	}
	return l
}

// failureOf says how a task failed: which, where, why, and its exit code.
func failureOf(svc swarm.Service, t swarm.Task) string {
	msg := fmt.Sprintf("%s %s: %s", slotName(svc, t), t.Status.State, taskError(t))
	if cs := t.Status.ContainerStatus; cs != nil && cs.ExitCode != 0 && !strings.Contains(msg, fmt.Sprintf("(%d)", cs.ExitCode)) {
		msg += fmt.Sprintf(" (exit code %d)", cs.ExitCode)
	}
	return msg
}

// failures describes the failed tasks of the spec a rolled back or paused
// update tried, for its error: "; task web.2 failed: ...".
func failures(s *snapshot, svc swarm.Service) string {
	var failed []swarm.Task
	for _, t := range s.tasks[svc.ID] {
		if taskFailed(t.Status.State) {
			failed = append(failed, t)
		}
	}
	if len(failed) == 0 {
		return ""
	}
	return "; " + failureOf(svc, latest(failed))
}

// slotName names a task as docker service ps does: <service>.<slot>.
func slotName(svc swarm.Service, t swarm.Task) string {
	if t.Slot > 0 {
		return fmt.Sprintf("task %s.%d", svc.Spec.Name, t.Slot)
	}
	return "task " + svc.Spec.Name
}

// nodesOf names the nodes tasks are on, sorted, without repeats.
func nodesOf(s *snapshot, tasks []swarm.Task) string {
	var names []string
	for _, t := range tasks {
		n := s.nodes[t.NodeID]
		if n == "" {
			n = shortID(t.NodeID)
		}
		if n != "" && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

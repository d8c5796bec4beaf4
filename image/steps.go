package image

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"

	"github.com/stack-deploy/stack/progress"
)

// StepAction is the action of the progress events that report a BuildKit
// build step: one event when the step starts (Working), one when it ends
// (Done, the message saying "cached" or how long it took; Failed). Their
// resource is the service's image ("image:web"), so a terminal's live line
// shows the latest step of each build rather than a line per step.
const StepAction = "step"

// stepReporter turns BuildKit's status stream into step events and keeps
// each step's last lines of output for the error of a failing one.
type stepReporter struct {
	ctx      context.Context
	resource string
	secrets  [][]byte

	mu     sync.Mutex
	steps  map[digest.Digest]*stepState
	failed *stepState
}

type stepState struct {
	name          string
	started, done bool
	err           string
	lines         []string
	out           lineSplitter
}

func newStepReporter(ctx context.Context, resource string, secrets map[string][]byte) *stepReporter {
	r := &stepReporter{ctx: ctx, resource: resource, steps: map[digest.Digest]*stepState{}}
	for _, v := range secrets {
		if len(v) > 0 {
			r.secrets = append(r.secrets, v)
		}
	}
	return r
}

// redact blanks the build's secret values in s: a RUN that prints one
// must not carry it into an event or an error.
func (r *stepReporter) redact(s string) string {
	for _, v := range r.secrets {
		s = strings.ReplaceAll(s, string(v), "****")
	}
	return s
}

var spaces = regexp.MustCompile(`\s+`)

func (r *stepReporter) step(d digest.Digest) *stepState {
	st, ok := r.steps[d]
	if !ok {
		st = &stepState{}
		st.out.emit = func(l string) {
			if len(st.lines) == maxStepLines-1 {
				st.lines = st.lines[1:]
			}
			st.lines = append(st.lines, l)
		}
		r.steps[d] = st
	}
	return st
}

func (r *stepReporter) update(s *client.SolveStatus) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range s.Vertexes {
		st := r.step(v.Digest)
		if v.Name != "" {
			st.name = r.redact(spaces.ReplaceAllString(strings.TrimSpace(v.Name), " "))
		}
		if v.Started != nil && !st.started && !v.Cached {
			st.started = true
			progress.Report(r.ctx, r.resource, StepAction, progress.Working, st.name+": started", nil)
		}
		if v.Completed == nil || st.done {
			continue
		}
		st.done = true
		took := ""
		if v.Started != nil {
			took = roundDuration(v.Completed.Sub(*v.Started)).String()
		}
		switch {
		case v.Error != "":
			st.out.flush()
			st.err = r.redact(v.Error)
			if r.failed == nil && !strings.Contains(v.Error, "context canceled") {
				r.failed = st
			}
			progress.Report(r.ctx, r.resource, StepAction, progress.Failed, st.name+": failed after "+took, errors.New(st.err))
		case v.Cached:
			progress.Report(r.ctx, r.resource, StepAction, progress.Done, st.name+": cached", nil)
		default:
			progress.Report(r.ctx, r.resource, StepAction, progress.Done, st.name+": done in "+took, nil)
		}
	}
	for _, l := range s.Logs {
		st := r.step(l.Vertex)
		st.out.write(r.redact(string(l.Data)))
	}
}

// grpcNoise is what gRPC and BuildKit put before the message of an error
// that crossed the connection.
var grpcNoise = regexp.MustCompile(`(failed to solve: |rpc error: code = \w+ desc = )`)

// buildError names the step that failed with the end of its output, or,
// when no step did (a Dockerfile that does not parse, say), BuildKit's own
// message.
func (r *stepReporter) buildError(j *buildJob, err error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	msg := r.redact(grpcNoise.ReplaceAllString(err.Error(), ""))
	be := &BuildError{Service: j.service, Image: j.image, Message: msg}
	if st := r.failed; st != nil {
		be.Message = fmt.Sprintf("%s: %s", st.name, st.err)
		be.Output = append([]string{st.name}, st.lines...)
	}
	return be
}

// roundDuration keeps two or three significant figures: 4ms, 120ms, 3.12s.
func roundDuration(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Millisecond)
}

package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
)

// MaxOutput is how much of a check's output a result keeps: its end.
const MaxOutput = 2048

// Result is the outcome of an environment's checks, in their order.
type Result struct {
	Checks []CheckResult
}

// CheckResult is one check's outcome.
type CheckResult struct {
	Name   string
	Passed bool
	// Output is what the check got: the command's output, or the last
	// answer or error of the URL; its last MaxOutput bytes.
	Output   string
	Took     time.Duration
	Attempts int
}

// Passed reports whether every check passed.
func (r Result) Passed() bool { return r.Failed() == nil }

// Failed returns the first check that failed; nil when none did.
func (r Result) Failed() *CheckResult {
	for i := range r.Checks {
		if !r.Checks[i].Passed {
			return &r.Checks[i]
		}
	}
	return nil
}

// Err is nil when every check passed, else an ErrCheckFailed naming the
// first that failed and what it said.
func (r Result) Err() error {
	f := r.Failed()
	if f == nil {
		return nil
	}
	return &CheckError{Check: f.Name, Output: lastLine(f.Output)}
}

// interval is the pause between two attempts of a check.
const interval = time.Second

// Verify runs checks in order, each to its end, and returns their results:
// an HTTP check asks its URL (GET) until it answers the status it wants or
// its within has passed; a command check runs the command in a one-off
// container of its service of p (p as deployed: images pinned, addresses
// injected) through runner, once, or until it exits 0 within its within
// when it sets one. A check that fails does not stop the others. The error
// is for what kept checks from running (ctx cancelled, no runner for a
// command check), not for checks that failed: see Result.Err.
func Verify(ctx context.Context, checks []manifest.Check, runner engine.Runner, p *manifest.Project) (Result, error) {
	var res Result
	for _, c := range checks {
		resource := "verify:" + c.Name()
		progress.Report(ctx, resource, "check", progress.Working, "", nil)
		var cr CheckResult
		if c.HTTP != "" {
			cr = checkHTTP(ctx, c)
		} else {
			if runner == nil {
				return res, fmt.Errorf("verifying %q: %w: the orchestrator runs no one-off containers", c.Name(), engine.ErrUnsupported)
			}
			cr = checkCommand(ctx, c, runner, p)
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
		res.Checks = append(res.Checks, cr)
		if cr.Passed {
			progress.Report(ctx, resource, "check", progress.Done, fmt.Sprintf("passed in %s", cr.Took.Round(time.Millisecond)), nil)
		} else {
			progress.Report(ctx, resource, "check", progress.Failed, "", errors.New(lastLine(cr.Output)))
		}
	}
	return res, nil
}

// attempts calls try until it passes or within has passed since start, at
// most once a second and at most 1000 times.
func attempts(ctx context.Context, within time.Duration, try func(remaining time.Duration) (bool, string)) CheckResult {
	start := time.Now()
	deadline := start.Add(within)
	var cr CheckResult
	for cr.Attempts < 1000 {
		cr.Attempts++
		ok, out := try(time.Until(deadline))
		cr.Passed, cr.Output = ok, tail(out)
		if ok || ctx.Err() != nil || time.Now().Add(interval).After(deadline) {
			break
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	cr.Took = time.Since(start)
	return cr
}

func checkHTTP(ctx context.Context, c manifest.Check) CheckResult {
	want := c.WantStatus()
	cr := attempts(ctx, c.Timeout(), func(remaining time.Duration) (bool, string) {
		timeout := min(max(remaining, time.Second), 10*time.Second)
		rctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		req, err := http.NewRequestWithContext(rctx, http.MethodGet, c.HTTP, nil)
		if err != nil {
			return false, err.Error()
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		if resp.StatusCode == want {
			return true, fmt.Sprintf("%d", resp.StatusCode)
		}
		// One line of the answer: an error page's HTML is many.
		return false, fmt.Sprintf("answered %d, want %d: %s", resp.StatusCode, want, strings.Join(strings.Fields(string(body)), " "))
	})
	cr.Name = c.Name()
	return cr
}

func checkCommand(ctx context.Context, c manifest.Check, runner engine.Runner, p *manifest.Project) CheckResult {
	within := time.Duration(0)
	if c.Within != "" {
		within = c.Timeout()
	}
	cr := attempts(ctx, within, func(time.Duration) (bool, string) {
		var out syncBuffer
		code, err := runner.Run(ctx, p, engine.RunOptions{Service: c.Service, Command: c.Command, Remove: true, Stdout: &out, Stderr: &out})
		if err != nil {
			return false, out.String() + err.Error()
		}
		if code != 0 {
			return false, fmt.Sprintf("%sexit code %d", out.String(), code)
		}
		return true, out.String()
	})
	cr.Name = c.Name()
	return cr
}

// tail is the last MaxOutput bytes of s.
func tail(s string) string {
	if len(s) <= MaxOutput {
		return s
	}
	return "..." + s[len(s)-MaxOutput:]
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// syncBuffer collects a container's two streams.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() < 1<<20 {
		s.b.Write(p)
	}
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

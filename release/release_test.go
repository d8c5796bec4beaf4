package release_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/release"
)

// fakeRunner runs nothing: it writes the command to the output and exits
// with the code codes gives the command (0 otherwise).
type fakeRunner struct {
	codes map[string]int
	ran   []string
}

func (f *fakeRunner) Run(_ context.Context, _ *manifest.Project, o engine.RunOptions) (int, error) {
	cmd := strings.Join(o.Command, " ")
	f.ran = append(f.ran, o.Service+": "+cmd)
	if !o.Remove {
		return 0, errors.New("a one-off of a release must be removed")
	}
	fmt.Fprintf(o.Stdout, "running %s\nsecond line", cmd)
	if c, ok := f.codes[cmd]; ok && c < 0 {
		return 0, errors.New("engine gone")
	}
	return f.codes[cmd], nil
}

func steps(cmds ...string) []manifest.Step {
	var out []manifest.Step
	for _, c := range cmds {
		out = append(out, manifest.Step{Service: "api", Command: strings.Fields(c)})
	}
	return out
}

func TestRunPhase(t *testing.T) {
	tests := []struct {
		name    string
		steps   []manifest.Step
		codes   map[string]int
		ran     int
		wantErr string
		code    int
	}{
		{name: "in order, all", steps: steps("migrate", "seed"), ran: 2},
		{name: "the first failure stops the phase", steps: steps("migrate", "seed", "warm"), codes: map[string]int{"seed": 3}, ran: 2,
			wantErr: `release step "api: seed" exited with code 3`, code: 3},
		{name: "an engine error names the step", steps: steps("migrate"), codes: map[string]int{"migrate": -1}, ran: 1,
			wantErr: `running release step "api: migrate": engine gone`},
		{name: "no steps", ran: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeRunner{codes: tt.codes}
			var out strings.Builder
			err := release.RunPhase(t.Context(), r, &manifest.Project{}, tt.steps, &out)
			if len(r.ran) != tt.ran {
				t.Errorf("ran %v, want %d steps", r.ran, tt.ran)
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			var se *release.StepError
			if tt.code != 0 && (!errors.As(err, &se) || se.Code != tt.code || !errors.Is(err, release.ErrStepFailed)) {
				t.Errorf("error %v is not a StepError with code %d", err, tt.code)
			}
			if tt.ran > 0 && !strings.HasPrefix(out.String(), "api: migrate | running migrate\napi: migrate | second line\n") {
				t.Errorf("output not under the step's name:\n%s", out.String())
			}
		})
	}
}

func TestVerify(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hits.Add(1)
		switch {
		case r.URL.Path == "/slow-start" && n < 3:
			w.WriteHeader(http.StatusServiceUnavailable)
		case r.URL.Path == "/broken":
			http.Error(w, "database unreachable", http.StatusInternalServerError)
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	defer srv.Close()
	runner := &fakeRunner{codes: map[string]int{"bad": 2}}
	checks := []manifest.Check{
		{HTTP: srv.URL + "/slow-start", Within: "10s"},
		{Service: "api", Command: manifest.Command{"selftest"}},
		{HTTP: srv.URL + "/broken", Within: "2s"},
		{Service: "api", Command: manifest.Command{"bad"}},
		{HTTP: srv.URL + "/created", Status: 201, Within: "1s"},
	}
	start := time.Now()
	res, err := release.Verify(t.Context(), checks, runner, &manifest.Project{})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("took %s: a check outlived its within", took)
	}
	want := []bool{true, true, false, false, false}
	for i, cr := range res.Checks {
		if cr.Passed != want[i] {
			t.Errorf("%s: passed %v after %d attempts (%s), want %v", cr.Name, cr.Passed, cr.Attempts, cr.Output, want[i])
		}
	}
	if res.Checks[0].Attempts != 3 {
		t.Errorf("slow start: %d attempts, want 3", res.Checks[0].Attempts)
	}
	if res.Checks[3].Attempts != 1 || !strings.Contains(res.Checks[3].Output, "exit code 2") {
		t.Errorf("a command without within runs once and says its code: %+v", res.Checks[3])
	}
	if !strings.Contains(res.Checks[4].Output, "answered 200, want 201") {
		t.Errorf("status check output %q", res.Checks[4].Output)
	}
	err = res.Err()
	if !errors.Is(err, release.ErrCheckFailed) || !strings.Contains(err.Error(), `check "http `+srv.URL+`/broken" failed: answered 500, want 200: database unreachable`) {
		t.Errorf("Err() = %v", err)
	}
	if _, err := release.Verify(t.Context(), checks[1:2], nil, &manifest.Project{}); !errors.Is(err, engine.ErrUnsupported) {
		t.Errorf("a command check without a runner: %v", err)
	}
}

package cli

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/stack-deploy/stack/engine"
)

// TestForegroundCascade: Compose's exit codes and stops for the exits of
// the attached containers, in the order given.
func TestForegroundCascade(t *testing.T) {
	web := engine.Container{Service: "web", Number: 1}
	tests := engine.Container{Service: "tests", Number: 1}
	type exit struct {
		c    engine.Container
		code int
	}
	for _, tt := range []struct {
		name  string
		o     foregroundOptions
		exits []exit
		code  int
		stops int
	}{
		{"no cascade: all exit, status 0", foregroundOptions{}, []exit{{tests, 3}, {web, 1}}, 0, 0},
		{"exit-code-from tests, tests first", foregroundOptions{ExitCodeFrom: "tests", AbortOnExit: true}, []exit{{tests, 3}, {web, 137}}, 3, 1},
		{"exit-code-from tests, web first", foregroundOptions{ExitCodeFrom: "tests", AbortOnExit: true}, []exit{{web, 2}, {tests, 143}}, 143, 1},
		{"abort on exit: the first to exit", foregroundOptions{AbortOnExit: true}, []exit{{web, 4}, {tests, 137}}, 4, 1},
		{"abort on failure: 0 goes on", foregroundOptions{AbortOnFailure: true}, []exit{{tests, 0}, {web, 5}}, 5, 1},
		{"abort on failure: none failed", foregroundOptions{AbortOnFailure: true}, []exit{{tests, 0}, {web, 0}}, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			g := &Globals{Stdout: &out, Stderr: &out}
			events := make(chan exitEvent, len(tt.exits))
			for _, e := range tt.exits {
				events <- exitEvent{c: e.c, code: e.code}
			}
			stops := 0
			err := tt.o.loop(context.Background(), g, []engine.Container{web, tests}, events, tt.o.printer(g), func() error { stops++; return nil }, nil)
			code := 0
			var ee *ExitError
			if errors.As(err, &ee) {
				code = ee.Code
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.code || stops != tt.stops {
				t.Errorf("exit %d after %d stops, want %d after %d\n%s", code, stops, tt.code, tt.stops, out.String())
			}
		})
	}
}

// TestForegroundInterrupt: Ctrl-C stops the project once and the run ends
// with the interrupt.
func TestForegroundInterrupt(t *testing.T) {
	web := engine.Container{Service: "web", Number: 1}
	var out bytes.Buffer
	g := &Globals{Stdout: &out, Stderr: &out}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	events := make(chan exitEvent, 1)
	o := foregroundOptions{}
	stops := 0
	err := o.loop(ctx, g, []engine.Container{web}, events, o.printer(g), func() error { stops++; events <- exitEvent{c: web, code: 137}; return nil }, nil)
	if !errors.Is(err, context.Canceled) || stops != 1 || !bytes.Contains(out.Bytes(), []byte("Gracefully stopping")) {
		t.Errorf("err %v, %d stops, output %q", err, stops, out.String())
	}
}

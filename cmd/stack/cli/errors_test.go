package cli

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/hashicorp/go-multierror"

	"github.com/stack-deploy/stack/lock"
)

func TestMessage(t *testing.T) {
	one := multierror.Append(nil, errors.New(`service "web": build failed`))
	two := multierror.Append(nil, errors.New("a"), errors.New("b\nmore"))
	custom := &multierror.Error{Errors: []error{errors.New("x")}, ErrorFormat: func([]error) string { return "custom" }}
	for _, tt := range []struct {
		err  error
		want string
	}{
		{errors.New("plain"), "plain"},
		{one, `service "web": build failed`},
		{two, "2 errors:\n  * a\n  * b\n    more"},
		{custom, "custom"},
	} {
		if got := message(tt.err); got != tt.want {
			t.Errorf("message(%q) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestExitCode(t *testing.T) {
	live := context.Background()
	cancelled, cancel := context.WithCancel(live)
	cancel()
	held := &lock.HeldError{Project: "shop"}
	for _, tt := range []struct {
		ctx  context.Context
		err  error
		want int
	}{
		{live, nil, exitOK},
		{live, errors.New("x"), exitError},
		{live, fmt.Errorf("up: %w", held), exitLocked},
		{live, fmt.Errorf("%w; the run stopped: %w", lock.ErrLost, context.Canceled), exitError},
		{cancelled, fmt.Errorf("waiting: %w", context.Canceled), exitInterrupted},
		{live, &ExitError{Code: 3}, 3},
	} {
		if got := exitCode(tt.ctx, tt.err); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

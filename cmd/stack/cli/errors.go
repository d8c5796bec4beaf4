package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/hashicorp/go-multierror"

	"github.com/stack-deploy/stack/lock"
)

// Exit codes, as Docker Compose uses them, and stack's own.
const (
	exitOK    = 0
	exitError = 1
	// exitInterrupted is the status of a run stopped by a signal other
	// than Interrupted (a canceled context): as for SIGINT.
	exitInterrupted = 128 + int(syscall.SIGINT)
	// exitLocked: another run held the project's deploy lock for all of
	// --lock-timeout. 75 is EX_TEMPFAIL of sysexits.h: try again later.
	exitLocked = 75
)

// Interrupted is the cause main cancels the command's context with when a
// signal arrives: the run ends with status 128+Signal, as a shell reports a
// process a signal ended (130 for SIGINT, 143 for SIGTERM).
type Interrupted struct {
	Signal syscall.Signal
}

func (i Interrupted) Error() string { return "interrupted by " + i.Signal.String() }

// Is makes an Interrupted cause a context.Canceled, which is what the
// commands see and return.
func (i Interrupted) Is(target error) bool { return target == context.Canceled }

// SignalExitCode is the exit status of a run a signal ended.
func SignalExitCode(s syscall.Signal) int { return 128 + int(s) }

// ExitError ends the command with Code. A nil Err prints nothing (the command
// has already said what it had to), otherwise Err is printed.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// exitCode maps an error returned by a command to the process exit status.
func exitCode(ctx context.Context, err error) int {
	var ee *ExitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.Code
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		var in Interrupted
		if errors.As(context.Cause(ctx), &in) {
			return SignalExitCode(in.Signal)
		}
		return exitInterrupted
	case errors.Is(err, lock.ErrHeld):
		return exitLocked
	default:
		return exitError
	}
}

// message is how Execute prints err: a collection of errors that did not
// choose its own format is listed one a line (one alone is itself), not in
// go-multierror's "1 error occurred:" framing.
func message(err error) string {
	if msg, ok := notAnswering(err); ok {
		return msg
	}
	var m *multierror.Error
	if !errors.As(err, &m) || m.ErrorFormat != nil || m != err {
		return err.Error()
	}
	if len(m.Errors) == 1 {
		return m.Errors[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d errors:", len(m.Errors))
	for _, e := range m.Errors {
		b.WriteString("\n  * " + strings.ReplaceAll(e.Error(), "\n", "\n    "))
	}
	return b.String()
}

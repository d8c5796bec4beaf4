package dockerclient

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// DefaultCallTimeout is how long an engine call may wait for the beginning
// of its answer unless SetCallTimeout or STACK_ENGINE_TIMEOUT says otherwise.
const DefaultCallTimeout = 60 * time.Second

// EnvCallTimeout names the environment variable that sets the bound, as a
// Go duration ("90s", "2m") or whole seconds; --engine-timeout overrides it.
const EnvCallTimeout = "STACK_ENGINE_TIMEOUT"

var (
	callTimeoutMu  sync.Mutex
	callTimeout    time.Duration
	callTimeoutSet bool
)

// SetCallTimeout bounds, for every client made afterwards, how long an
// engine call may take before its answer begins; 0 removes the bound.
// Streams that have begun (logs, events, attach, a build's output) are
// bounded only by the run's context.
func SetCallTimeout(d time.Duration) {
	callTimeoutMu.Lock()
	defer callTimeoutMu.Unlock()
	callTimeout, callTimeoutSet = d, true
}

// CallTimeout is the bound SetCallTimeout set, else STACK_ENGINE_TIMEOUT's,
// else DefaultCallTimeout.
func CallTimeout() time.Duration {
	callTimeoutMu.Lock()
	defer callTimeoutMu.Unlock()
	if callTimeoutSet {
		return callTimeout
	}
	if d, err := ParseCallTimeout(os.Getenv(EnvCallTimeout)); err == nil && d >= 0 {
		return d
	}
	return DefaultCallTimeout
}

// ParseCallTimeout reads a bound as a Go duration or whole seconds; ""
// is DefaultCallTimeout.
func ParseCallTimeout(s string) (time.Duration, error) {
	if s == "" {
		return DefaultCallTimeout, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (60s, 2m, or seconds)", s)
	}
	return d, nil
}

// NotAnsweringError is the error of an engine call whose answer did not
// begin within the bound.
type NotAnsweringError struct {
	Host   string // the engine's address, unix:///var/run/docker.sock
	Method string
	Path   string // without the API version prefix
	After  time.Duration
}

func (e *NotAnsweringError) Error() string {
	return fmt.Sprintf("the engine at %s has not answered %s %s in %s: it may be wedged; "+
		"see whether `docker info` answers there and what the engine's log says "+
		"(on a wedged engine, `kill -USR1 <dockerd pid>` writes a goroutine dump under /var/run/docker); "+
		"--engine-timeout (%s) sets how long stack waits",
		e.Host, e.Method, e.Path, e.After, EnvCallTimeout)
}

// Is makes the error a context.DeadlineExceeded: a call that ran out of
// time, which the Docker client passes on as it is rather than as a failure
// to connect.
func (e *NotAnsweringError) Is(target error) bool { return target == context.DeadlineExceeded }

package cli

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/internal/dockerclient"
)

// engineTimeout is --engine-timeout: how long an engine call may take
// before its answer begins. Setting it sets dockerclient's bound for every
// client the run makes.
type engineTimeout struct {
	d   time.Duration
	err error // STACK_ENGINE_TIMEOUT did not parse
}

func (e *engineTimeout) String() string { return e.d.String() }
func (e *engineTimeout) Type() string   { return "duration" }

func (e *engineTimeout) Set(s string) error {
	d, err := dockerclient.ParseCallTimeout(s)
	if err == nil && d < 0 {
		err = errors.New("it cannot be negative")
	}
	if err != nil {
		return err
	}
	e.d, e.err = d, nil
	dockerclient.SetCallTimeout(d)
	return nil
}

// addEngineTimeoutFlag adds the global --engine-timeout, whose default is
// STACK_ENGINE_TIMEOUT's, else 60s.
func addEngineTimeoutFlag(root *cobra.Command) func() error {
	e := &engineTimeout{}
	if err := e.Set(os.Getenv(dockerclient.EnvCallTimeout)); err != nil {
		e.d, e.err = dockerclient.DefaultCallTimeout, fmt.Errorf("%s: %w", dockerclient.EnvCallTimeout, err)
		dockerclient.SetCallTimeout(e.d)
	}
	root.PersistentFlags().Var(e, "engine-timeout",
		"how long an engine call may take before its answer begins (0: no bound); streams that have begun (logs, events, a build's output) are bounded by the run only (default: "+dockerclient.EnvCallTimeout+", else 60s)")
	return func() error { return e.err }
}

// notAnswering is the message of an error whose cause is an engine that did
// not answer in time, or whose API is too old: that cause alone, which
// names the engine (what wraps it only repeats the request's URL).
func notAnswering(err error) (string, bool) {
	var na *dockerclient.NotAnsweringError
	if errors.As(err, &na) {
		return na.Error(), true
	}
	var old *dockerclient.TooOldError
	if errors.As(err, &old) {
		return old.Error(), true
	}
	return "", false
}

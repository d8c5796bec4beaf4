package release

import (
	"errors"
	"fmt"
)

// Sentinels, checked with errors.Is.
var (
	// ErrStepFailed: a release phase's command exited non-zero.
	ErrStepFailed = errors.New("release step failed")
	// ErrCheckFailed: a verification check did not pass.
	ErrCheckFailed = errors.New("check failed")
)

// StepError is a release step that exited non-zero; it wraps ErrStepFailed.
type StepError struct {
	// Step is the step's name ("api: /app migrate"), Code its exit code.
	Step string
	Code int
}

func (e *StepError) Error() string {
	return fmt.Sprintf("release step %q exited with code %d", e.Step, e.Code)
}

func (e *StepError) Unwrap() error { return ErrStepFailed }

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

// CheckError is a check that did not pass; it wraps ErrCheckFailed.
type CheckError struct {
	// Check is the check's name, Output the last line of what it got.
	Check, Output string
}

func (e *CheckError) Error() string {
	if e.Output == "" {
		return fmt.Sprintf("check %q failed", e.Check)
	}
	return fmt.Sprintf("check %q failed: %s", e.Check, e.Output)
}

func (e *CheckError) Unwrap() error { return ErrCheckFailed }

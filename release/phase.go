package release

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
)

// RunPhase runs steps in order, each once, as a one-off container of its
// service of p (p as the deploy will run it: its images pinned or present,
// its addresses injected), removed when it exits. Each line of a step's
// output goes to out under the step's name ("api: /app migrate | ...").
// The first step that fails ends the phase: the error names it and, for a
// non-zero exit, is a *StepError with its code.
func RunPhase(ctx context.Context, runner engine.Runner, p *manifest.Project, steps []manifest.Step, out io.Writer) error {
	for _, s := range steps {
		name := s.Name()
		resource := "release:" + name
		progress.Report(ctx, resource, "run", progress.Working, "", nil)
		w := NewPrefixWriter(out, name+" | ")
		code, err := runner.Run(ctx, p, engine.RunOptions{Service: s.Service, Command: s.Command, Remove: true, Stdout: w, Stderr: w})
		w.Flush()
		if err == nil && code != 0 {
			err = &StepError{Step: name, Code: code}
		} else if err != nil {
			err = fmt.Errorf("running release step %q: %w", name, err)
		}
		if err != nil {
			progress.Report(ctx, resource, "run", progress.Failed, "", err)
			return err
		}
		progress.Report(ctx, resource, "run", progress.Done, "exit 0", nil)
	}
	return nil
}

// PrefixWriter writes each line written to it to an underlying writer
// behind a prefix; it is safe for the two streams of one container.
type PrefixWriter struct {
	mu     sync.Mutex
	out    io.Writer
	prefix []byte
	buf    []byte
}

// NewPrefixWriter returns a writer that prefixes every line with prefix.
// A nil out discards.
func NewPrefixWriter(out io.Writer, prefix string) *PrefixWriter {
	if out == nil {
		out = io.Discard
	}
	return &PrefixWriter{out: out, prefix: []byte(prefix)}
}

// Write writes the complete lines of b, keeping a last partial line until
// it ends or Flush.
func (w *PrefixWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		if err := w.line(w.buf[:i+1]); err != nil {
			return len(b), err
		}
		w.buf = w.buf[i+1:]
	}
	return len(b), nil
}

// Flush writes a last line that did not end.
func (w *PrefixWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		_ = w.line(append(w.buf, '\n'))
		w.buf = nil
	}
}

func (w *PrefixWriter) line(l []byte) error {
	_, err := w.out.Write(append(append([]byte{}, w.prefix...), l...))
	return err
}

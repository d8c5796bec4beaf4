package docker

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/internal/dag"
)

// Logs calls line for each line of output of the project's service
// containers (and of the one-offs o names) that o selects, reading all containers at once;
// with Follow it returns when every stream ends or ctx is cancelled. With
// Previous it reads the lines kept from the containers replaced or removed
// last instead (previous.go).
func (d *Driver) Logs(ctx context.Context, project string, o engine.LogsOptions, line func(engine.LogLine)) error {
	var mu sync.Mutex
	serial := func(l engine.LogLine) {
		mu.Lock()
		defer mu.Unlock()
		line(l)
	}
	if o.Previous {
		return d.previousLogs(ctx, project, o, serial)
	}
	cs, err := d.containers(ctx, project)
	if err != nil {
		return err
	}
	read, err := logsRead(cs, o)
	if err != nil {
		return err
	}
	err = dag.Each(ctx, len(read), 0, func(ctx context.Context, i int) error { return d.containerLogs(ctx, read[i], o, serial) })
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// logsRead are the containers of cs o asks for: the service containers it
// selects, and the one-offs it names, every one of which must be there.
func logsRead(cs []engine.Container, o engine.LogsOptions) ([]engine.Container, error) {
	var read []engine.Container
	found := map[string]bool{}
	for _, c := range cs {
		switch {
		case c.OneOff && markNamed(c, o.OneOffs, found):
			read = append(read, c)
		case !c.OneOff && (len(o.OneOffs) == 0 || len(o.Services) > 0) && selected(c, o.Services, o.Index):
			read = append(read, c)
		}
	}
	for _, name := range o.OneOffs {
		if !found[name] {
			return nil, fmt.Errorf("no such service or one-off container: %q", name)
		}
	}
	return read, nil
}

// markNamed marks in found each of refs that names c (its name, or its ID
// or an ID prefix of 12 characters or more: a short ID, as `run -d` prints
// it in full) and reports whether any did.
func markNamed(c engine.Container, refs []string, found map[string]bool) bool {
	named := false
	for _, ref := range refs {
		if ref == c.Name || (len(ref) >= 12 && strings.HasPrefix(c.ID, ref)) {
			found[ref], named = true, true
		}
	}
	return named
}

// selected reports whether c is of one of services (any when none) and,
// when index is not 0, replica number index.
func selected(c engine.Container, services []string, index int) bool {
	if index > 0 && c.Number != index {
		return false
	}
	if len(services) == 0 {
		return true
	}
	for _, s := range services {
		if c.Service == s {
			return true
		}
	}
	return false
}

func (d *Driver) containerLogs(ctx context.Context, c engine.Container, o engine.LogsOptions, line func(engine.LogLine)) error {
	tail := o.Tail
	if tail == "" {
		tail = "all"
	}
	rc, err := d.client.ContainerLogs(ctx, c.ID, container.LogsOptions{
		ShowStdout: true, ShowStderr: true, Follow: o.Follow, Tail: tail,
		Since: o.Since, Until: o.Until,
		// Always with the engine's time: the JSON form carries it, and
		// -t shows it.
		Timestamps: true,
	})
	if err != nil {
		return fmt.Errorf("reading logs of container %q: %w", c.Name, err)
	}
	defer rc.Close()
	ins, err := d.client.ContainerInspect(ctx, c.ID)
	if err != nil {
		return fmt.Errorf("inspecting container %q: %w", c.Name, err)
	}
	tty := ins.Config != nil && ins.Config.Tty
	if err := splitLogs(c, rc, tty, line); err != nil && ctx.Err() == nil {
		return fmt.Errorf("reading logs of container %q: %w", c.Name, err)
	}
	return nil
}

// splitLogs reads the engine's log stream of c (multiplexed, or one raw
// stream for a container with a terminal), every line led by its
// timestamp, and calls line for each.
func splitLogs(c engine.Container, r io.Reader, tty bool, line func(engine.LogLine)) error {
	stdout := &lineWriter{emit: func(t time.Time, text string) {
		line(engine.LogLine{Container: c, Stream: "stdout", Time: t, Text: text})
	}}
	stderr := &lineWriter{emit: func(t time.Time, text string) {
		line(engine.LogLine{Container: c, Stream: "stderr", Time: t, Text: text})
	}}
	var err error
	if tty {
		_, err = io.Copy(stdout, r)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, r)
	}
	stdout.flush()
	stderr.flush()
	return err
}

// lineWriter cuts what is written into lines, each "<RFC 3339 time> text"
// as the engine sends them with timestamps.
type lineWriter struct {
	buf  bytes.Buffer
	emit func(t time.Time, text string)
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.buf.Write(b)
	for {
		i := bytes.IndexByte(w.buf.Bytes(), '\n')
		if i < 0 {
			return len(b), nil
		}
		w.line(string(w.buf.Next(i + 1)[:i]))
	}
}

// flush emits an unterminated last line.
func (w *lineWriter) flush() {
	if w.buf.Len() > 0 {
		w.line(w.buf.String())
		w.buf.Reset()
	}
}

func (w *lineWriter) line(raw string) {
	raw = strings.TrimSuffix(raw, "\r") // a terminal ends lines with \r\n
	stamp, text, _ := strings.Cut(raw, " ")
	t, err := time.Parse(time.RFC3339Nano, stamp)
	if err != nil {
		// Only a line without the stamp the engine puts on each (the
		// continuation of a line longer than its 16 KiB messages) gets
		// here: it is text through and through.
		t, text = time.Time{}, raw
	}
	w.emit(t, text)
}

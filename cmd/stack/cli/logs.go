package cli

import (
	"bytes"
	"fmt"
	"io"
	"sync"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/engine"
)

func init() { register(newLogsCommand) }

func newLogsCommand(g *Globals) *cobra.Command {
	var o engine.LogsOptions
	cmd := &cobra.Command{
		Use:   "logs [SERVICE...]",
		Short: "Show the output of the project's containers, each line prefixed by its container",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, err := g.LoadProject(ctx)
			if err != nil {
				return err
			}
			for _, a := range args {
				if err := knownService(p, a); err != nil {
					return err
				}
			}
			o.Services = args
			t, err := g.target(p)
			if err != nil {
				return err
			}
			defer t.Close()
			l, err := engine.Capability[engine.Logger](t.Driver, "logs")
			if err != nil {
				return err
			}
			pw := newPrefixWriters(g.Stdout, isTerminal(g.Stdout) && !ciEnv())
			err = l.Logs(ctx, p.Name, o, pw.writers)
			pw.flush()
			if o.Follow && ctx.Err() != nil {
				return nil // Ctrl-C is how following ends
			}
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.Follow, "follow", "f", false, "follow the output")
	f.StringVarP(&o.Tail, "tail", "n", "all", "lines to show from the end of each container's output")
	f.BoolVarP(&o.Timestamps, "timestamps", "t", false, "show timestamps")
	return cmd
}

// prefixWriters interleave the lines of many containers on one writer, each
// whole line prefixed by its container's name (coloured on a terminal), as
// Compose does.
type prefixWriters struct {
	mu     sync.Mutex
	out    io.Writer
	colour bool
	all    []*prefixWriter
}

func newPrefixWriters(out io.Writer, colour bool) *prefixWriters {
	return &prefixWriters{out: out, colour: colour}
}

var logColours = []string{"36", "33", "32", "35", "34", "96", "93", "92", "95", "94"}

func (p *prefixWriters) writers(c engine.Container) (io.Writer, io.Writer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	prefix := fmt.Sprintf("%s-%d  | ", c.Service, c.Number)
	if p.colour {
		prefix = "\x1b[" + logColours[len(p.all)%len(logColours)] + "m" + prefix + "\x1b[0m"
	}
	w := &prefixWriter{parent: p, prefix: prefix}
	p.all = append(p.all, w)
	return w, w
}

// flush writes the unterminated last line of every container.
func (p *prefixWriters) flush() {
	for _, w := range p.all {
		w.mu.Lock()
		if w.buf.Len() > 0 {
			p.emit(w.prefix, append(w.buf.Bytes(), '\n'))
			w.buf.Reset()
		}
		w.mu.Unlock()
	}
}

func (p *prefixWriters) emit(prefix string, line []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, _ = io.WriteString(p.out, prefix)
	_, _ = p.out.Write(line)
}

type prefixWriter struct {
	mu     sync.Mutex
	parent *prefixWriters
	prefix string
	buf    bytes.Buffer
}

func (w *prefixWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(b)
	for {
		i := bytes.IndexByte(w.buf.Bytes(), '\n')
		if i < 0 {
			return len(b), nil
		}
		w.parent.emit(w.prefix, w.buf.Next(i+1))
	}
}

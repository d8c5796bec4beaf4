package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
)

type logsOptions struct {
	engine.LogsOptions
	Timestamps bool
	NoPrefix   bool
	NoColor    bool
	Format     string
	Grep       string
}

func init() { register(newLogsCommand) }

func newLogsCommand(g *Globals) *cobra.Command {
	var o logsOptions
	cmd := &cobra.Command{
		Use:   "logs [SERVICE|ONE-OFF...]",
		Short: "Show the output of the project's containers, each line prefixed by its container",
		Long: "Show the output of the project's service containers, each line prefixed by its container\n" +
			"(service-number), stderr lines on stderr. --previous shows instead the last lines of the\n" +
			"container each replica had before its current one (replaced by up, or removed by rm).\n" +
			"A one-off's container is shown by its ID, as stack run -d printed it, or its name (Docker engine).",
		ValidArgsFunction: completeServices(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Format != "text" && o.Format != "json" {
				return fmt.Errorf("--format %q: use text or json", o.Format)
			}
			if o.Index > 0 && len(args) != 1 {
				return errors.New("--index needs exactly one service")
			}
			ctx := cmd.Context()
			p, t, l, err := openFor[engine.Logger](ctx, g, "logs", nil)
			if err != nil {
				return err
			}
			defer t.Close()
			if o.Services, o.OneOffs, err = logsTargets(p, t.Driver.Name(), args); err != nil {
				return err
			}
			var line func(engine.LogLine)
			if o.Format == "json" {
				line = jsonLogLine(g.Stdout)
			} else {
				colour := !o.NoColor && isTerminal(g.Stdout) && !ciEnv() && os.Getenv("NO_COLOR") == ""
				line = (&logPrinter{stdout: g.Stdout, stderr: g.Stderr, colour: colour, prefix: !o.NoPrefix, timestamps: o.Timestamps, colours: map[string]string{}}).line
			}
			if line, err = grepLines(o.Grep, line); err != nil {
				return err
			}
			err = l.Logs(ctx, p.Name, o.LogsOptions, line)
			if o.Follow && ctx.Err() != nil {
				return nil // Ctrl-C is how following ends
			}
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.Follow, "follow", "f", false, "follow the output")
	f.StringVarP(&o.Tail, "tail", "n", "all", "lines to show from the end of each container's output")
	f.BoolVarP(&o.Timestamps, "timestamps", "t", false, "show the time the engine received each line")
	f.StringVar(&o.Since, "since", "", "show lines since a time (2013-01-02T13:23:37Z) or a duration ago (42m)")
	f.StringVar(&o.Until, "until", "", "show lines before a time (2013-01-02T13:23:37Z) or a duration ago (42m)")
	f.IntVar(&o.Index, "index", 0, "the replica to show, when the service has several (with one SERVICE)")
	f.BoolVar(&o.NoPrefix, "no-log-prefix", false, "do not prefix lines with their container")
	f.BoolVar(&o.NoColor, "no-color", false, "do not colour the prefixes (NO_COLOR does the same)")
	f.BoolVar(&o.Previous, "previous", false, "show the last lines of the container each replica had before its current one")
	f.StringVar(&o.Grep, "grep", "", "show only the lines that match a regular expression (Go syntax; (?i) for any case)")
	f.StringVar(&o.Format, "format", "text", "output format: text, or json (one object a line: service, container, stream, time, line)")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// logsTargets splits logs' arguments into services and the names of
// one-off containers (their IDs, as `stack run -d` prints them, or names), which only the Docker
// engine's driver reads; an argument that is neither is an error there.
func logsTargets(p *manifest.Project, orchestrator string, args []string) (services, oneOffs []string, err error) {
	for _, a := range args {
		if _, ok := p.Project.Services[a]; ok {
			services = append(services, a)
			continue
		}
		if orchestrator != manifest.OrchestratorDocker {
			return nil, nil, knownService(p, a)
		}
		oneOffs = append(oneOffs, a)
	}
	return services, oneOffs, nil
}

// rfc3339NanoFixed is the engine's time format for log lines: always nine
// digits of fraction, so that columns line up.
const rfc3339NanoFixed = "2006-01-02T15:04:05.000000000Z07:00"

// logPrinter writes lines as Compose does: "<service>-<number> | " padded
// to the longest name seen so far (coloured by container on a terminal),
// the time with -t, the text; a container's stderr lines to stderr.
type logPrinter struct {
	stdout, stderr io.Writer
	colour         bool
	prefix         bool
	timestamps     bool
	width          int
	colours        map[string]string
}

var logColours = []string{"36", "33", "32", "35", "34", "96", "93", "92", "95", "94"}

func (p *logPrinter) line(l engine.LogLine) {
	var b strings.Builder
	if p.prefix {
		name := fmt.Sprintf("%s-%d", l.Container.Service, l.Container.Number)
		if l.Container.OneOff {
			name = l.Container.Name
		}
		if l.Node != "" {
			name += "@" + l.Node // a Swarm's task, as docker service logs names it
		}
		p.width = max(p.width, len(name)+1)
		prefix := fmt.Sprintf("%-*s | ", p.width, name)
		if p.colour {
			c, ok := p.colours[name]
			if !ok {
				c = logColours[len(p.colours)%len(logColours)]
				p.colours[name] = c
			}
			prefix = "\x1b[" + c + "m" + prefix + "\x1b[0m"
		}
		b.WriteString(prefix)
	}
	if p.timestamps && !l.Time.IsZero() {
		b.WriteString(l.Time.UTC().Format(rfc3339NanoFixed) + " ")
	}
	b.WriteString(l.Text)
	b.WriteByte('\n')
	w := p.stdout
	if l.Stream == "stderr" {
		w = p.stderr
	}
	_, _ = io.WriteString(w, b.String())
}

// logJSON is a line of `stack logs --format json`.
type logJSON struct {
	Service   string    `json:"service"`
	Container string    `json:"container"`
	Node      string    `json:"node,omitempty"`
	Stream    string    `json:"stream"`
	Time      time.Time `json:"time"`
	Line      string    `json:"line"`
}

func jsonLogLine(w io.Writer) func(engine.LogLine) {
	enc := json.NewEncoder(w)
	return func(l engine.LogLine) {
		_ = enc.Encode(logJSON{Service: l.Container.Service, Container: l.Container.Name, Node: l.Node, Stream: l.Stream, Time: l.Time, Line: l.Text})
	}
}

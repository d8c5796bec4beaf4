package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/engine"
)

type eventsOptions struct {
	engine.EventsOptions
	Format string
	JSON   bool
}

func init() { register(newEventsCommand) }

func newEventsCommand(g *Globals) *cobra.Command {
	var o eventsOptions
	cmd := &cobra.Command{
		Use:   "events [SERVICE...]",
		Short: "Follow what happens to the project's containers, a line each",
		Long: "Print the lifecycle events of the project's service containers as they happen (create,\n" +
			"start, health_status, kill, die with its exitCode, oom, stop, destroy, ...), one line each\n" +
			"as Compose prints them, or with --format json one object a line (time, type, service,\n" +
			"container, id, action, attributes). The execs a healthcheck runs are left out. Ctrl-C\n" +
			"ends it, or --until.",
		ValidArgsFunction: completeServices(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.JSON {
				o.Format = "json"
			}
			if o.Format != "text" && o.Format != "json" {
				return fmt.Errorf("--format %q: use text or json", o.Format)
			}
			ctx := cmd.Context()
			p, t, ew, err := openFor[engine.EventWatcher](ctx, g, "events", args)
			if err != nil {
				return err
			}
			defer t.Close()
			o.Services = args
			emit := eventLine(g.Stdout)
			if o.Format == "json" {
				emit = eventJSON(g.Stdout)
			}
			if err := ew.Events(ctx, p.Name, o.EventsOptions, emit); err != nil {
				return err
			}
			return nil // Ctrl-C, or --until, is how it ends
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Format, "format", "text", "output format: text, or json (one object a line)")
	f.BoolVar(&o.JSON, "json", false, "the same as --format json (Compose's flag)")
	f.StringVar(&o.Since, "since", "", "replay the events since a time (2013-01-02T13:23:37Z) or a duration ago (10m)")
	f.StringVar(&o.Until, "until", "", "stop at a time, or after a duration from now (10m)")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// eventLine prints Compose's line, its attributes sorted:
// 2026-12-01 08:28:47.304372 container start <id> (image=..., name=...)
func eventLine(w io.Writer) func(engine.Event) {
	return func(e engine.Event) {
		keys := make([]string, 0, len(e.Attributes))
		for k := range e.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		attrs := make([]string, len(keys))
		for i, k := range keys {
			attrs[i] = k + "=" + e.Attributes[k]
		}
		fmt.Fprintf(w, "%s %s %s %s (%s)\n", e.Time.Format("2006-01-02 15:04:05.000000"), eventType(e), e.Action, e.ID, strings.Join(attrs, ", "))
	}
}

// eventJSON prints Compose's object, with the container's name added.
func eventJSON(w io.Writer) func(engine.Event) {
	enc := json.NewEncoder(w)
	return func(e engine.Event) {
		e.Type = eventType(e)
		_ = enc.Encode(e)
	}
}

// eventType is what an event happened to: a container unless the driver
// says otherwise (a Swarm's service or task).
func eventType(e engine.Event) string {
	if e.Type == "" {
		return "container"
	}
	return e.Type
}

package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/engine"
)

type psOptions struct {
	All    bool
	Format string
}

func init() { register(newPsCommand) }

func newPsCommand(g *Globals) *cobra.Command {
	var o psOptions
	cmd := &cobra.Command{
		Use:   "ps [SERVICE...]",
		Short: "List the project's containers (on a Swarm: its tasks, with their nodes)",
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Format != "table" && o.Format != "json" {
				return fmt.Errorf("--format %q: use table or json", o.Format)
			}
			ctx := cmd.Context()
			p, t, l, err := openFor[engine.Lister](ctx, g, "ps", nil)
			if err != nil {
				return err
			}
			defer t.Close()
			all, err := l.Ps(ctx, p.Name, o.All)
			if err != nil {
				return err
			}
			want := map[string]bool{}
			for _, a := range args {
				want[a] = true
			}
			rows := all[:0]
			for _, st := range all {
				if len(want) == 0 || want[st.Service] {
					rows = append(rows, st)
				}
			}
			if o.Format == "json" {
				b, err := json.MarshalIndent(rows, "", "  ")
				if err != nil {
					return fmt.Errorf("rendering containers: %w", err)
				}
				_, err = fmt.Fprintf(g.Stdout, "%s\n", b)
				return err
			}
			return psTable(g, rows, time.Now())
		},
	}
	cmd.Flags().BoolVarP(&o.All, "all", "a", false, "show stopped containers too, and one-off containers")
	cmd.Flags().StringVar(&o.Format, "format", "table", "output format: table or json")
	return cmd
}

// psTable prints the containers, with a TRAFFIC column saying which
// receive the gateway's requests when the project has a gateway.
func psTable(g *Globals, rows []engine.Status, now time.Time) error {
	for _, st := range rows {
		if st.Node != "" {
			return tasksTable(g, rows, now)
		}
	}
	tw := tabwriter.NewWriter(g.Stdout, 0, 0, 3, ' ', 0)
	gateway := slices.ContainsFunc(rows, func(st engine.Status) bool { return len(st.Traffic) > 0 })
	header := "NAME\tSERVICE\tSTATE\tHEALTH\tUPTIME\tPORTS"
	if gateway {
		header += "\tTRAFFIC"
	}
	fmt.Fprintln(tw, header)
	for _, st := range rows {
		state := st.State
		if st.State == "exited" {
			state = fmt.Sprintf("exited (%d)", st.ExitCode)
		}
		uptime := ""
		if !st.Started.IsZero() {
			uptime = now.Sub(st.Started).Round(time.Second).String()
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s", st.Name, st.Service, state, st.Health, uptime, strings.Join(st.Ports, ", "))
		if gateway {
			line += "\t" + strings.Join(st.Traffic, ", ")
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// tasksTable lists a Swarm's tasks (a cluster's pods): where each runs, its
// state and error, the image digest it runs, and with a gateway which
// receive its requests.
func tasksTable(g *Globals, rows []engine.Status, now time.Time) error {
	tw := tabwriter.NewWriter(g.Stdout, 0, 0, 3, ' ', 0)
	gateway := slices.ContainsFunc(rows, func(st engine.Status) bool { return len(st.Traffic) > 0 })
	header := "NAME\tSERVICE\tNODE\tSTATE\tUPTIME\tIMAGE\tPORTS"
	if gateway {
		header += "\tTRAFFIC"
	}
	fmt.Fprintln(tw, header+"\tERROR")
	for _, st := range rows {
		state := st.State
		if st.ExitCode != 0 {
			state = fmt.Sprintf("%s (%d)", st.State, st.ExitCode)
		}
		uptime := ""
		if !st.Started.IsZero() {
			uptime = now.Sub(st.Started).Round(time.Second).String()
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s\t%s", st.Name, st.Service, st.Node, state, uptime, shortDigest(st.Image), strings.Join(st.Ports, ", "))
		if gateway {
			line += "\t" + strings.Join(st.Traffic, ", ")
		}
		fmt.Fprintln(tw, line+"\t"+st.Error)
	}
	return tw.Flush()
}

// shortDigest writes repo@sha256:<64 hex> as repo@sha256:<12 hex>.
func shortDigest(ref string) string {
	repo, digest, ok := strings.Cut(ref, "@sha256:")
	if !ok || len(digest) < 12 {
		return ref
	}
	return repo + "@sha256:" + digest[:12]
}

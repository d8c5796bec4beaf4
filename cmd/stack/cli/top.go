package cli

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/engine"
)

func init() { register(newTopCommand) }

func newTopCommand(g *Globals) *cobra.Command {
	return &cobra.Command{
		Use:               "top [SERVICE...]",
		Short:             "Show the processes running in the services' containers",
		Long:              "Show the processes of the running containers of the services (all when none), one-offs\nincluded, one table: SERVICE, # (the replica), then the engine's ps columns, CMD last.",
		ValidArgsFunction: completeServices(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, t, rows, err := g.projectContainers(ctx, "top", args)
			if err != nil {
				return err
			}
			defer t.Close()
			cs := selection{Services: args, Orphans: true, OneOffs: true, Keep: running}.pick(p, rows)
			sort.Slice(cs, func(i, j int) bool { return cs[i].Name < cs[j].Name })
			top, err := engine.Capability[engine.Topper](t.Driver, "top")
			if err != nil {
				return err
			}
			var tables []procTable
			for _, c := range cs {
				titles, procs, err := top.Top(ctx, c)
				if err != nil {
					return err
				}
				tables = append(tables, procTable{container: c, titles: titles, procs: procs})
			}
			return printTop(g, tables)
		},
	}
}

type procTable struct {
	container engine.Container
	titles    []string
	procs     [][]string
}

// printTop prints the processes of every container in one table: the
// columns of all of them in the order first seen (engines may give
// different ones), CMD last, "-" where a container has no such column;
// nothing at all when no process runs, as Compose.
func printTop(g *Globals, tables []procTable) error {
	header := []string{"SERVICE", "#"}
	for _, tb := range tables {
		for _, title := range tb.titles {
			if !slices.Contains(header, title) {
				header = append(header, title)
			}
		}
	}
	if i := slices.Index(header, "CMD"); i >= 0 {
		header = append(slices.Delete(header, i, i+1), "CMD")
	}
	tw := tabwriter.NewWriter(g.Stdout, 4, 1, 2, ' ', 0)
	n := 0
	for _, tb := range tables {
		for _, proc := range tb.procs {
			if n == 0 {
				fmt.Fprintln(tw, strings.Join(header, "\t"))
			}
			n++
			row := make([]string, len(header))
			for i, h := range header {
				row[i] = "-"
				switch h {
				case "SERVICE":
					row[i] = tb.container.Service
				case "#":
					row[i] = strconv.Itoa(tb.container.Number)
				default:
					if j := slices.Index(tb.titles, h); j >= 0 && j < len(proc) {
						row[i] = proc[j]
					}
				}
			}
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
	}
	return tw.Flush()
}

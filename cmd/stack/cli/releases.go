package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/registry"
)

type releasesOptions struct {
	Format string
}

func init() { register(newReleasesCommand) }

func newReleasesCommand(g *Globals) *cobra.Command {
	var o releasesOptions
	cmd := &cobra.Command{
		Use:   "releases --env ENV",
		Short: "List an environment's release locks, newest first",
		Long: "List the lock files of an environment (.stack/releases/ENV), newest first; * marks the\n" +
			"current one. Roll back by deploying an older one: stack up --env ENV --lock FILE.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Format != "table" && o.Format != "json" {
				return fmt.Errorf("--format %q: use table or json", o.Format)
			}
			p, err := g.LoadProject(cmd.Context())
			if err != nil {
				return err
			}
			if p.Env == nil {
				return fmt.Errorf("stack releases: choose the environment with --env (or STACK_ENV): one of %v", manifest.EnvironmentNames(p))
			}
			entries, err := registry.Store{Dir: registry.DefaultStoreDir(p.WorkingDir)}.List(p.Env.Name)
			if err != nil {
				return err
			}
			if o.Format == "json" {
				return writeReleasesJSON(g, entries)
			}
			return writeReleasesTable(g, entries)
		},
	}
	cmd.Flags().StringVar(&o.Format, "format", "table", "output format: table or json")
	return cmd
}

func writeReleasesTable(g *Globals, entries []registry.Entry) error {
	w := tabwriter.NewWriter(g.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "\tTAG\tCREATED\tCOMMIT\tFROM\tFILE")
	for _, e := range entries {
		mark := ""
		if e.Current {
			mark = "*"
		}
		if e.Err != nil {
			fmt.Fprintf(w, "%s\t?\t\t\t\t%s: %v\n", mark, filepath.Base(e.Path), e.Err)
			continue
		}
		l := e.Lock
		commit := l.GitCommit
		if len(commit) > 12 {
			commit = commit[:12]
		}
		if l.GitDirty {
			commit += "+dirty"
		}
		from := ""
		if l.PromotedFrom != nil {
			from = l.PromotedFrom.Environment
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", mark, l.Tag, l.Created.Format("2006-01-02 15:04:05Z"), commit, from, e.Path)
	}
	return w.Flush()
}

func writeReleasesJSON(g *Globals, entries []registry.Entry) error {
	type item struct {
		Path    string         `json:"path"`
		Current bool           `json:"current"`
		Lock    *registry.Lock `json:"lock,omitempty"`
		Error   string         `json:"error,omitempty"`
	}
	items := make([]item, 0, len(entries))
	for _, e := range entries {
		it := item{Path: e.Path, Current: e.Current, Lock: e.Lock}
		if e.Err != nil {
			it.Error = e.Err.Error()
		}
		items = append(items, it)
	}
	b, err := json.MarshalIndent(items, "", "  ")
	if err != nil {
		return fmt.Errorf("rendering the releases: %w", err)
	}
	_, err = fmt.Fprintf(g.Stdout, "%s\n", b)
	return err
}

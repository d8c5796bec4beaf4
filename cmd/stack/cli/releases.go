package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
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
		Long: "List the lock files of an environment (.stack/releases/ENV), newest first. STATE says\n" +
			"current for the one `current` names (the last released or promoted) and running for the\n" +
			"one whose images every running container of the project runs on the environment's engine.\n" +
			"Roll back by deploying an older one: stack up --env ENV --lock FILE.",
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
			running := g.running(cmd.Context(), p)
			deploys, err := registry.Store{Dir: registry.DefaultStoreDir(p.WorkingDir)}.LastDeploys(p.Env.Name)
			if err != nil {
				return err
			}
			if o.Format == "json" {
				return writeReleasesJSON(g, entries, running, deploys)
			}
			return writeReleasesTable(g, entries, running, deploys)
		},
	}
	cmd.Flags().StringVar(&o.Format, "format", "table", "output format: table or json")
	return cmd
}

// running reads what the project runs on the environment's engine (a
// Swarm's: what its tasks run); when no engine answers it warns and returns
// nil: the list of locks stands alone.
func (g *Globals) running(ctx context.Context, p *manifest.Project) registry.Running {
	t, err := g.target(p)
	if err == nil {
		defer t.Close()
		var r registry.Running
		if r, err = t.Running(ctx, p.Name); err == nil {
			return r
		}
	}
	fmt.Fprintf(g.Stderr, "stack: warning: not showing which release runs: %v\n", err)
	return nil
}

// releaseState says "current" for the environment's current lock and
// "running" for the one whose images the engine runs, and "failed" for
// one whose last deploy failed (and that does not run).
func releaseState(e registry.Entry, running registry.Running, deploys map[string]registry.Deploy) string {
	var states []string
	if e.Current {
		states = append(states, "current")
	}
	runs := e.Lock != nil && running.RunsLock(e.Lock)
	if runs {
		states = append(states, "running")
	}
	if d, ok := deploys[filepath.Base(e.Path)]; ok && d.Error != "" && !runs {
		states = append(states, "failed "+d.Time.Format("2006-01-02 15:04:05Z"))
	}
	return strings.Join(states, ",")
}

func writeReleasesTable(g *Globals, entries []registry.Entry, running registry.Running, deploys map[string]registry.Deploy) error {
	w := tabwriter.NewWriter(g.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "TAG\tCREATED\tCOMMIT\tFROM\tSTATE\tFILE")
	for _, e := range entries {
		if e.Err != nil {
			fmt.Fprintf(w, "?\t\t\t\t%s\t%s: %v\n", releaseState(e, running, deploys), e.Path, e.Err)
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
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", l.Tag, l.Created.Format("2006-01-02 15:04:05Z"), commit, from, releaseState(e, running, deploys), e.Path)
	}
	return w.Flush()
}

func writeReleasesJSON(g *Globals, entries []registry.Entry, running registry.Running, deploys map[string]registry.Deploy) error {
	type item struct {
		Path    string         `json:"path"`
		Current bool           `json:"current"`
		Running bool           `json:"running"`
		Lock    *registry.Lock `json:"lock,omitempty"`
		Error   string         `json:"error,omitempty"`
		// LastDeploy is the last attempt to deploy it, failed or not.
		LastDeploy *registry.Deploy `json:"last_deploy,omitempty"`
	}
	items := make([]item, 0, len(entries))
	for _, e := range entries {
		it := item{Path: e.Path, Current: e.Current, Running: e.Lock != nil && running.RunsLock(e.Lock), Lock: e.Lock}
		if d, ok := deploys[filepath.Base(e.Path)]; ok {
			it.LastDeploy = &d
		}
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

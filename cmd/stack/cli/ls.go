package cli

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
)

type lsOptions struct {
	All    bool
	Quiet  bool
	Format string
	Filter []string
}

func init() { register(newLsCommand) }

func newLsCommand(g *Globals) *cobra.Command {
	var o lsOptions
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List the projects on the engine: their status and compose files",
		Long: "List every project stack deployed on the engine (the one of --env's environment, else\n" +
			"DOCKER_HOST or the current docker context) that has a running container, with -a every\n" +
			"one with a container: its name, its containers by state, and the compose files they were\n" +
			"created from. It reads no compose file.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Format != "table" && o.Format != "json" {
				return fmt.Errorf("--format %q: use table or json", o.Format)
			}
			names, err := nameFilters(o.Filter)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			// The engine of --env's environment needs the manifest that
			// names it; otherwise none is read.
			p := &manifest.Project{}
			if g.Env != "" {
				if p, err = g.LoadProject(ctx); err != nil {
					return err
				}
			}
			t, err := g.target(p)
			if err != nil {
				return err
			}
			defer t.Close()
			pl, err := engine.Capability[engine.ProjectLister](t.Driver, "ls")
			if err != nil {
				return err
			}
			all, err := pl.Projects(ctx, o.All)
			if err != nil {
				return err
			}
			var projects []engine.ProjectSummary
			for _, ps := range all {
				if matchName(names, ps.Name) {
					projects = append(projects, ps)
				}
			}
			return printProjects(g, projects, o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.All, "all", "a", false, "list the projects whose containers are all stopped too")
	f.BoolVarP(&o.Quiet, "quiet", "q", false, "print only the projects' names")
	f.StringVar(&o.Format, "format", "table", "output format: table or json")
	f.StringArrayVar(&o.Filter, "filter", nil, "list only the projects matching name=NAME (a regular expression)")
	return cmd
}

// nameFilters reads --filter name=... entries, the one filter Compose's ls
// has.
func nameFilters(filters []string) ([]*regexp.Regexp, error) {
	var out []*regexp.Regexp
	for _, f := range filters {
		key, value, ok := strings.Cut(f, "=")
		if !ok || key != "name" {
			return nil, fmt.Errorf("--filter %q: use name=NAME", f)
		}
		re, err := regexp.Compile(value)
		if err != nil {
			return nil, fmt.Errorf("--filter %q: %w", f, err)
		}
		out = append(out, re)
	}
	return out, nil
}

func matchName(res []*regexp.Regexp, name string) bool {
	if len(res) == 0 {
		return true
	}
	for _, re := range res {
		if re.MatchString(name) {
			return true
		}
	}
	return false
}

// projectStatus is Compose's: each state with its count, "exited(1), running(2)".
func projectStatus(states map[string]int) string {
	keys := make([]string, 0, len(states))
	for k := range states {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s(%d)", k, states[k])
	}
	return strings.Join(parts, ", ")
}

func configFiles(ps engine.ProjectSummary) string {
	if len(ps.ConfigFiles) == 0 {
		return "N/A" // created before stack labelled them
	}
	return strings.Join(ps.ConfigFiles, ",")
}

func printProjects(g *Globals, projects []engine.ProjectSummary, o lsOptions) error {
	switch {
	case o.Quiet:
		for _, ps := range projects {
			fmt.Fprintln(g.Stdout, ps.Name)
		}
		return nil
	case o.Format == "json":
		type projectJSON struct {
			Name        string `json:"Name"`
			Status      string `json:"Status"`
			ConfigFiles string `json:"ConfigFiles"`
		}
		out := make([]projectJSON, 0, len(projects))
		for _, ps := range projects {
			out = append(out, projectJSON{Name: ps.Name, Status: projectStatus(ps.States), ConfigFiles: configFiles(ps)})
		}
		b, err := json.Marshal(out)
		if err != nil {
			return fmt.Errorf("rendering projects: %w", err)
		}
		_, err = fmt.Fprintf(g.Stdout, "%s\n", b)
		return err
	}
	tw := tabwriter.NewWriter(g.Stdout, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATUS\tCONFIG FILES")
	for _, ps := range projects {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", ps.Name, projectStatus(ps.States), configFiles(ps))
	}
	return tw.Flush()
}

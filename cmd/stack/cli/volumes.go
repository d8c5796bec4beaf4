package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/engine"
)

func init() { register(newVolumesCommand) }

func newVolumesCommand(g *Globals) *cobra.Command {
	var (
		format string
		quiet  bool
	)
	cmd := &cobra.Command{
		Use:   "volumes [SERVICE...]",
		Short: "List the project's volumes",
		Long: "List the volumes of the project (those the services name, when SERVICE is given):\n" +
			"--format table (default), json (one object a line, Compose's fields), or a Go\n" +
			"template ('{{.Name}}', 'table {{.Name}}\\t{{.Mountpoint}}').",
		ValidArgsFunction: completeServices(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			tmpl, err := volumeTemplate(format, quiet)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			p, t, vl, err := openFor[engine.VolumeLister](ctx, g, "volumes", args)
			if errors.Is(err, engine.ErrUnsupported) {
				return fmt.Errorf("%w: %w", err, engine.ErrOneEngine)
			}
			if err != nil {
				return err
			}
			defer t.Close()
			vs, err := vl.Volumes(ctx, p.Name)
			if err != nil {
				return err
			}
			if len(args) > 0 {
				var names []string
				for _, s := range args {
					for _, key := range engine.ServiceVolumes(p.Project, p.Project.Services[s]) {
						names = append(names, p.Project.Volumes[key].Name)
					}
				}
				vs = slices.DeleteFunc(vs, func(v engine.Volume) bool { return !slices.Contains(names, v.Name) })
			}
			if quiet && format != "json" {
				format = "{{.Name}}"
			}
			return writeVolumes(g.Stdout, format, tmpl, vs)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output format: table, json, or a Go template ('table TEMPLATE' for a table)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the volume names")
	return cmd
}

// volumeRow has the fields `docker compose volumes` prints and templates
// can name.
type volumeRow struct {
	Driver     string
	Labels     string
	Mountpoint string
	Name       string
	Scope      string
}

// volumeTemplate is the template of --format (nil for json): table is
// Compose's columns, -q names only.
func volumeTemplate(format string, quiet bool) (*template.Template, error) {
	text := format
	switch {
	case quiet && format != "json":
		text = "{{.Name}}"
	case format == "table":
		text = "table {{.Driver}}\t{{.Name}}"
	case format == "json":
		return nil, nil
	}
	t, err := template.New("volumes").Parse(strings.TrimPrefix(text, "table "))
	if err != nil {
		return nil, fmt.Errorf("--format %q: %w", format, err)
	}
	return t, nil
}

func writeVolumes(w io.Writer, format string, tmpl *template.Template, vs []engine.Volume) error {
	rows := make([]volumeRow, 0, len(vs))
	for _, v := range vs {
		labels := make([]string, 0, len(v.Labels))
		for k, val := range v.Labels {
			labels = append(labels, k+"="+val)
		}
		sort.Strings(labels)
		rows = append(rows, volumeRow{Driver: v.Driver, Labels: strings.Join(labels, ","), Mountpoint: v.Mountpoint, Name: v.Name, Scope: v.Scope})
	}
	if tmpl == nil {
		enc := json.NewEncoder(w)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	table := strings.HasPrefix(format, "table")
	out := w
	var tw *tabwriter.Writer
	if table {
		tw = tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
		out = tw
		if format == "table" {
			fmt.Fprintln(tw, "DRIVER\tVOLUME NAME")
		}
	}
	for _, r := range rows {
		if err := tmpl.Execute(out, r); err != nil {
			return fmt.Errorf("--format: %w", err)
		}
		fmt.Fprintln(out)
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}

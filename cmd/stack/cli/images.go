package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/docker/go-units"
	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/engine"
)

func init() { register(newImagesCommand) }

func newImagesCommand(g *Globals) *cobra.Command {
	var (
		format string
		quiet  bool
	)
	cmd := &cobra.Command{
		Use:               "images [SERVICE...]",
		Short:             "List the images the project's containers were created from",
		ValidArgsFunction: completeServices(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return fmt.Errorf("--format %q: use table or json", format)
			}
			ctx := cmd.Context()
			p, t, rows, err := g.projectContainers(ctx, "images", args)
			if err != nil {
				return err
			}
			defer t.Close()
			cs := selection{Services: args, Orphans: true, OneOffs: true}.pick(p, rows)
			il, err := engine.Capability[engine.ImageLister](t.Driver, "images")
			if err != nil {
				return err
			}
			images, err := il.Images(ctx, cs)
			if err != nil {
				return err
			}
			sort.Slice(images, func(i, j int) bool { return images[i].Container.Name < images[j].Container.Name })
			switch {
			case quiet:
				var ids []string
				for _, img := range images {
					if id := strings.TrimPrefix(img.ID, "sha256:"); !slices.Contains(ids, id) {
						ids = append(ids, id)
						fmt.Fprintln(g.Stdout, id)
					}
				}
				return nil
			case format == "json":
				return imagesJSON(g, images)
			}
			return imagesTable(g, images, time.Now())
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output format: table or json")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the image IDs")
	return cmd
}

// imagesTable prints Compose's columns.
func imagesTable(g *Globals, images []engine.ContainerImage, now time.Time) error {
	tw := tabwriter.NewWriter(g.Stdout, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "CONTAINER\tREPOSITORY\tTAG\tPLATFORM\tIMAGE ID\tSIZE\tCREATED")
	for _, img := range images {
		repo, tag := orNone(img.Repository), orNone(img.Tag)
		created := "N/A"
		if !img.Created.IsZero() {
			created = units.HumanDuration(now.Sub(img.Created)) + " ago"
		}
		id := strings.TrimPrefix(img.ID, "sha256:")
		if len(id) > 12 {
			id = id[:12]
		}
		size := "N/A" // the engine does not say (a cluster's node has the image)
		if img.Size > 0 {
			size = units.HumanSizeWithPrecision(float64(img.Size), 3)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", img.Container.Name, repo, tag, img.Platform, id, size, created)
	}
	return tw.Flush()
}

func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// imageJSON has the keys of `docker compose images --format json`.
type imageJSON struct {
	ID            string     `json:"ID"`
	ContainerName string     `json:"ContainerName"`
	Service       string     `json:"Service"`
	Repository    string     `json:"Repository"`
	Tag           string     `json:"Tag"`
	Platform      string     `json:"Platform"`
	Size          int64      `json:"Size"`
	Created       *time.Time `json:"Created,omitempty"`
}

func imagesJSON(g *Globals, images []engine.ContainerImage) error {
	out := make([]imageJSON, 0, len(images))
	for _, img := range images {
		j := imageJSON{ID: img.ID, ContainerName: img.Container.Name, Service: img.Container.Service, Repository: img.Repository, Tag: img.Tag, Platform: img.Platform, Size: img.Size}
		if !img.Created.IsZero() {
			j.Created = &img.Created
		}
		out = append(out, j)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("rendering images: %w", err)
	}
	_, err = fmt.Fprintf(g.Stdout, "%s\n", b)
	return err
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/progress"
)

func init() { register(newExportCommand) }

func newExportCommand(g *Globals) *cobra.Command {
	var (
		output string
		index  int
	)
	cmd := &cobra.Command{
		Use:   "export SERVICE -o FILE",
		Short: "Write a service container's filesystem to a tar archive",
		Long: "Write the filesystem of a service's container (its first, or replica --index) to FILE\n" +
			"as a tar archive, as docker export; -o - writes it to stdout. Volumes are not in it.",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeServices(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output == "" && isTerminal(g.Stdout) {
				return errors.New("export: refusing to write a tar archive to a terminal: name a file with -o FILE")
			}
			ctx := progress.WithSink(cmd.Context(), g.newRenderer())
			t, c, ex, err := oneOnOneEngine[engine.Exporter](ctx, g, "export", args[0], index, false)
			if err != nil {
				return err
			}
			defer t.Close()
			if output == "" || output == "-" {
				return ex.Export(ctx, c, g.Stdout)
			}
			return exportToFile(ctx, ex, c, output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "the tar file to write (- or none: stdout)")
	cmd.Flags().IntVar(&index, "index", 0, "the replica, when the service has several")
	return cmd
}

// exportToFile writes the archive next to path and renames it there once
// complete, so a failed export leaves no partial archive under its name.
func exportToFile(ctx context.Context, ex engine.Exporter, c engine.Container, path string) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".export-*")
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	err = ex.Export(ctx, c, f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("writing %s: %w", path, cerr)
	}
	if err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/progress"
)

func init() { register(newCommitCommand) }

func newCommitCommand(g *Globals) *cobra.Command {
	var (
		o       engine.CommitOptions
		index   int
		noPause bool
	)
	cmd := &cobra.Command{
		Use:   "commit SERVICE [REPOSITORY[:TAG]]",
		Short: "Make an image of a service container's changes",
		Long: "Make an image of the changes made in a service's container (its first, or replica\n" +
			"--index), as docker commit; print its ID. The container is paused while it is committed.",
		Args:              cobra.RangeArgs(1, 2),
		ValidArgsFunction: completeServices(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := progress.WithSink(cmd.Context(), g.newRenderer())
			t, c, cm, err := oneOnOneEngine[engine.Committer](ctx, g, "commit", args[0], index, false)
			if err != nil {
				return err
			}
			defer t.Close()
			if len(args) == 2 {
				o.Reference = args[1]
			}
			o.Pause = o.Pause && !noPause
			id, err := cm.Commit(ctx, c, o)
			if err != nil {
				return err
			}
			fmt.Fprintln(g.Stdout, id)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&index, "index", 0, "the replica, when the service has several")
	f.StringVarP(&o.Message, "message", "m", "", "the commit message")
	f.StringVarP(&o.Author, "author", "a", "", `the author ("Jane Doe <jane@example.com>")`)
	f.BoolVarP(&o.Pause, "pause", "p", true, "pause the container while it is committed")
	f.BoolVar(&noPause, "no-pause", false, "do not pause the container while it is committed")
	f.StringArrayVarP(&o.Changes, "change", "c", nil, "apply a Dockerfile instruction to the image (CMD, ENV, LABEL ...)")
	return cmd
}

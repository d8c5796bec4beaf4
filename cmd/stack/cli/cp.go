package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/progress"
)

type cpOptions struct {
	engine.CopyOptions
	Index int
	All   bool
}

func init() { register(newCpCommand) }

func newCpCommand(g *Globals) *cobra.Command {
	var o cpOptions
	cmd := &cobra.Command{
		Use:   "cp [flags] SERVICE:SRC_PATH DEST_PATH|-\n  stack cp [flags] SRC_PATH|- SERVICE:DEST_PATH",
		Short: "Copy files between a service's container and this machine",
		Long: "Copy with docker cp's meaning of the paths (a directory's contents with SRC_PATH/., a tar\n" +
			"stream with -). From a service: its first container, or replica --index. To a service:\n" +
			"every one of its containers, or replica --index. Stopped containers count too.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			service, err := o.paths(args[0], args[1])
			if err != nil {
				return err
			}
			ctx := progress.WithSink(cmd.Context(), g.newRenderer())
			p, t, rows, err := g.projectContainers(ctx, "cp", []string{service})
			if err != nil {
				return err
			}
			defer t.Close()
			var cs []engine.Container
			if o.ToContainer && o.Index == 0 {
				cs = selection{Services: []string{service}, OneOffs: o.All}.pick(p, rows)
				if len(cs) == 0 {
					return fmt.Errorf("service %q has no container: create it with `stack up %s`", service, service)
				}
			} else {
				c, err := serviceContainer(p, rows, service, o.Index, false)
				if err != nil {
					return err
				}
				cs = []engine.Container{c}
			}
			cp, err := engine.Capability[engine.Copier](t.Driver, "cp")
			if err != nil {
				return err
			}
			o.Stdin, o.Stdout = g.Stdin, g.Stdout
			for _, c := range cs {
				what := fmt.Sprintf("%s:%s to %s", c.Name, o.ContainerPath, o.LocalPath)
				if o.ToContainer {
					what = fmt.Sprintf("%s to %s:%s", o.LocalPath, c.Name, o.ContainerPath)
				}
				progress.Report(ctx, "container:"+c.Name, "copy", progress.Working, what, nil)
				if err := cp.Copy(ctx, c, o.CopyOptions); err != nil {
					progress.Report(ctx, "container:"+c.Name, "copy", progress.Failed, what, err)
					return err
				}
				progress.Report(ctx, "container:"+c.Name, "copy", progress.Done, what, nil)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Index, "index", 0, "the replica, when the service has several")
	f.BoolVar(&o.All, "all", false, "copy to the service's one-off containers (stack run) too")
	f.BoolVarP(&o.FollowLink, "follow-link", "L", false, "copy what a symbolic link at SRC_PATH points to")
	f.BoolVarP(&o.Archive, "archive", "a", false, "keep the files' owners (uid and gid)")
	return cmd
}

// paths reads the two arguments, one of them SERVICE:PATH, and returns the
// service. A local path with a colon is written ./a:b or /a:b, as docker
// cp has it.
func (o *cpOptions) paths(src, dst string) (string, error) {
	if src == "" || dst == "" {
		return "", errors.New("cp: the source and the destination cannot be empty")
	}
	srcService, srcPath := splitCpArg(src)
	dstService, dstPath := splitCpArg(dst)
	switch {
	case srcService != "" && dstService != "":
		return "", errors.New("cp: copying between two containers is not supported: copy to this machine, then from it")
	case srcService != "":
		o.ContainerPath, o.LocalPath = srcPath, dstPath
		return srcService, nil
	case dstService != "":
		o.ToContainer, o.ContainerPath, o.LocalPath = true, dstPath, srcPath
		return dstService, nil
	}
	return "", fmt.Errorf("cp %s %s: name the service of one side, as SERVICE:PATH", src, dst)
}

func splitCpArg(arg string) (service, path string) {
	if filepath.IsAbs(arg) {
		return "", arg
	}
	service, path, ok := strings.Cut(arg, ":")
	if !ok || strings.HasPrefix(service, ".") {
		return "", arg
	}
	return service, path
}

package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"
	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/engine/docker"
	"github.com/stack-deploy/stack/envinject"
	"github.com/stack-deploy/stack/manifest"
)

type envOptions struct {
	Format string
}

func init() { register(newEnvCommand) }

func newEnvCommand(g *Globals) *cobra.Command {
	var o envOptions
	cmd := &cobra.Command{
		Use:   "env SERVICE",
		Short: "Show the environment a service's containers get, injected addresses included",
		Long: "Show the final environment of SERVICE: the variables declared in environment and env_file,\n" +
			"with {{svc.host}}/{{svc.port}} templates resolved, and the addresses stack injects\n" +
			"(REDIS_HOST, REDIS_PORT, ...), each marked declared or injected and from which service.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Format != "text" && o.Format != "json" {
				return fmt.Errorf("--format %q: use text or json", o.Format)
			}
			p, err := g.LoadProject(cmd.Context())
			if err != nil {
				return err
			}
			c, err := engineClient()
			if err != nil {
				return err
			}
			defer c.Close()
			report, err := g.injectAddresses(cmd.Context(), c, p)
			if err != nil {
				return err
			}
			sr, ok := report[args[0]]
			if d, disabled := p.DisabledServices[args[0]]; disabled {
				return fmt.Errorf("service %q is not enabled: enable one of its profiles %v with --profile", args[0], d.Profiles)
			}
			if !ok {
				return fmt.Errorf("no service %q in the project: use one of %v", args[0], p.ServiceNames())
			}
			if o.Format == "json" {
				enc := json.NewEncoder(g.Stdout)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				return enc.Encode(sr)
			}
			return writeEnv(g, sr)
		},
	}
	cmd.Flags().StringVar(&o.Format, "format", "text", "output format: text or json")
	return cmd
}

// writeEnv prints one variable a line, as an env file would hold it, with
// where it came from as a comment, then why anything is missing.
func writeEnv(g *Globals, sr envinject.ServiceReport) error {
	w := tabwriter.NewWriter(g.Stdout, 0, 0, 2, ' ', 0)
	for _, v := range sr.Variables {
		line := v.Name
		if v.Value != nil {
			line += "=" + *v.Value
		}
		fmt.Fprintf(w, "%s\t# %s\n", line, origin(v))
	}
	if len(sr.Variables) == 0 {
		fmt.Fprintf(w, "# no variables (injection mode %s)\n", sr.Mode)
	}
	for _, n := range sr.Notes {
		fmt.Fprintf(w, "# %s\n", n)
	}
	return w.Flush()
}

func origin(v envinject.Variable) string {
	s := string(v.Origin)
	switch {
	case v.Origin == envinject.Injected:
		s += " from " + v.From
		if v.Note != "" {
			s += " (" + v.Note + ")"
		}
	case v.Value == nil:
		s += " without a value and unset in the shell: not passed"
	}
	if len(v.Templates) > 0 {
		s += ", templates resolved from " + strings.Join(v.Templates, ", ")
	}
	if len(v.Pending) > 0 {
		s += "; " + strings.Join(v.Pending, ", ") + " pending: the image is not on the engine yet (`stack up` builds or pulls it first)"
	}
	if v.Overrides != "" {
		s += ", replaces the value injected from " + v.Overrides
	}
	return s
}

// injectAddresses applies address injection to p with what the engine c
// knows. When no engine answers, it warns and injects what the manifest alone
// says: image EXPOSE ports are then unknown.
func (g *Globals) injectAddresses(ctx context.Context, c docker.ImageInspector, p *manifest.Project) (envinject.Report, error) {
	facts, err := docker.Facts(ctx, c, p)
	if client.IsErrConnectionFailed(err) {
		fmt.Fprintf(g.Stderr, "stack: warning: no engine answers (%v): the ports images EXPOSE are unknown\n", err)
		facts, err = docker.Facts(ctx, noImages{}, p)
	}
	if err != nil {
		return nil, err
	}
	return envinject.Apply(p, facts)
}

// noImages stands for an engine that has no images: Facts then knows no
// image's ports.
type noImages struct{}

func (noImages) ImageInspect(context.Context, string, ...client.ImageInspectOption) (image.InspectResponse, error) {
	return image.InspectResponse{}, cerrdefs.ErrNotFound
}

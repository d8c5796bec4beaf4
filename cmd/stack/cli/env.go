package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/deploy"
	"github.com/stack-deploy/stack/envinject"
	"github.com/stack-deploy/stack/progress"
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
			p, t, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer t.Close()
			report, err := deploy.Inject(progress.WithSink(cmd.Context(), g.newRenderer()), t, p)
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

package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/engine"
)

func init() { register(newGatewayCommand) }

func newGatewayCommand(g *Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "gateway",
		Short: "Read the project's gateway: the certificate of its internal CA",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "ca",
		Short: "Print the root certificate (PEM) of the gateway's internal CA, for clients to trust",
		Long: "Print the root certificate of the CA the gateway signs its certificates with when\n" +
			"x-stack.gateway.tls is internal, in PEM, e.g. for curl --cacert or a trust store:\n" +
			"  stack gateway ca > stack-ca.pem && curl --cacert stack-ca.pem https://localhost:8443/\n" +
			"The CA lives on the gateway's volume: it stays the same across deploys until down -v.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			p, t, gr, err := openFor[engine.GatewayReader](ctx, g, "gateway ca", nil)
			if err != nil {
				return err
			}
			defer t.Close()
			if p.Stack.Gateway == nil || p.Stack.Gateway.TLS == nil || !p.Stack.Gateway.TLS.Internal {
				return fmt.Errorf("stack gateway ca: %w: the manifest does not set x-stack.gateway.tls: internal", engine.ErrNoGateway)
			}
			pem, err := gr.GatewayCA(ctx, p.Name)
			if err != nil {
				return err
			}
			_, err = g.Stdout.Write(pem)
			return err
		},
	})
	return cmd
}

package cli

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/engine"
)

func init() { register(newPortCommand) }

func newPortCommand(g *Globals) *cobra.Command {
	var (
		protocol string
		index    int
	)
	cmd := &cobra.Command{
		Use:   "port [--protocol tcp|udp] [--index N] SERVICE [PRIVATE_PORT]",
		Short: "Print the host address a service's private port is published on",
		Long: "Print the host address (0.0.0.0:8080) PRIVATE_PORT of the service's running container is\n" +
			"published on, or without PRIVATE_PORT every published port as PORT/PROTO -> ADDRESS.\n" +
			"A port that is not published is an error naming the ports that are.",
		Args:              cobra.RangeArgs(1, 2),
		ValidArgsFunction: completeServices(g),
		RunE: func(cmd *cobra.Command, args []string) error {
			private := 0
			if len(args) == 2 {
				n, err := strconv.ParseUint(args[1], 10, 16)
				if err != nil || n == 0 {
					return fmt.Errorf("private port %q: give a port number (1-65535)", args[1])
				}
				private = int(n)
			}
			protocol = strings.ToLower(protocol)
			if private == 0 && !cmd.Flags().Changed("protocol") {
				protocol = "" // every protocol
			}
			ctx := cmd.Context()
			p, t, rows, err := g.projectContainers(ctx, "port", args[:1])
			if err != nil {
				return err
			}
			defer t.Close()
			c, err := serviceContainer(p, rows, args[0], index, true)
			if err != nil {
				return err
			}
			pr, err := engine.Capability[engine.PortResolver](t.Driver, "port")
			if err != nil {
				return err
			}
			all, err := pr.Ports(ctx, c)
			if err != nil {
				return err
			}
			var match []engine.PortBinding
			for _, b := range all {
				if (protocol == "" || b.Protocol == protocol) && (private == 0 || b.Private == private) {
					match = append(match, b)
				}
			}
			if private != 0 {
				if len(match) == 0 {
					return fmt.Errorf("port %d/%s of container %q is not published (published: %s)", private, protocol, c.Name, publishedList(all))
				}
				_, err = fmt.Fprintln(g.Stdout, hostAddress(match[0]))
				return err
			}
			for _, b := range match {
				fmt.Fprintf(g.Stdout, "%d/%s -> %s\n", b.Private, b.Protocol, hostAddress(b))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&protocol, "protocol", "tcp", "the private port's protocol: tcp or udp")
	cmd.Flags().IntVar(&index, "index", 0, "the replica, when the service has several (default: the first)")
	return cmd
}

func hostAddress(b engine.PortBinding) string {
	return net.JoinHostPort(b.HostIP, strconv.Itoa(b.HostPort))
}

func publishedList(bs []engine.PortBinding) string {
	if len(bs) == 0 {
		return "none"
	}
	var out []string
	for _, b := range bs {
		s := fmt.Sprintf("%d/%s", b.Private, b.Protocol)
		if len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	return strings.Join(out, ", ")
}

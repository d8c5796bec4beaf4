package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/stack-deploy/stack/dashboard"
	"github.com/stack-deploy/stack/manifest"
)

type dashboardOptions struct {
	Port   int
	NoOpen bool
}

func init() { register(newDashboardCommand) }

func newDashboardCommand(g *Globals) *cobra.Command {
	var o dashboardOptions
	cmd := &cobra.Command{
		Use:   "dashboard",
		Short: "Serve a live web page of the project on 127.0.0.1: services, health, CPU and memory, routes, events, logs",
		Long: "Serve a read-only web page of the project on 127.0.0.1 (--port, default a free one) and print\n" +
			"its address, with the token every request must carry; the page opens in a browser when one\n" +
			"is at hand (not with --no-open, CI=true or no display). It shows each service with its\n" +
			"state, replicas, health, image and uptime, its CPU and memory over the last five minutes,\n" +
			"the gateway's requests/s, 5xx/s and latency per route, the events as they happen and a log\n" +
			"tail with a filter, updated live (server-sent events). Ctrl-C ends it.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Port < 0 || o.Port > 65535 {
				return fmt.Errorf("--port %d: use a port from 1 to 65535, or 0 for a free one", o.Port)
			}
			ctx := cmd.Context()
			p, t, err := g.open(ctx)
			if err != nil {
				return err
			}
			defer t.Close()
			src, notes := dashboard.SourcesOf(t.Driver)
			opts := []dashboard.Option{dashboard.WithServices(p.ServiceNames()), dashboard.WithNotes(notes...)}
			if p.Env != nil { // releases belong to an environment
				opts = append(opts, dashboard.WithReleases(func(ctx context.Context) ([]dashboard.Release, error) { return g.dashboardReleases(ctx, p) }))
			}
			srv, err := dashboard.New(p.Name, src, opts...)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(o.Port)))
			if err != nil {
				return fmt.Errorf("listening on 127.0.0.1:%d: %w", o.Port, err)
			}
			url := fmt.Sprintf("http://%s/?token=%s", ln.Addr(), srv.Token())
			fmt.Fprintf(g.Stdout, "Dashboard of %s: %s\n", p.Name, url)
			if !o.NoOpen {
				openBrowser(g, url)
			}
			err = srv.Serve(ctx, ln)
			if ctx.Err() != nil {
				return nil // Ctrl-C is how it ends
			}
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Port, "port", 0, "the port on 127.0.0.1 to serve on (0: a free one)")
	f.BoolVar(&o.NoOpen, "no-open", false, "do not open the page in a browser")
	return cmd
}

// dashboardReleases are the environment's releases as stack releases lists
// them, for the page.
func (g *Globals) dashboardReleases(ctx context.Context, p *manifest.Project) ([]dashboard.Release, error) {
	_, releases, _, err := g.releasesOf(ctx, p)
	if err != nil {
		return nil, err
	}
	out := make([]dashboard.Release, 0, len(releases))
	for _, r := range releases {
		s := r.Status()
		out = append(out, dashboard.Release{Tag: r.Lock.Tag, Images: images(r.Lock), Status: s.String(), When: s.Time, By: s.By, Running: r.Running})
	}
	return out, nil
}

// openBrowser opens url in the desktop's browser when there is one: not on
// CI, and on Linux only with a display. It says so when it cannot.
func openBrowser(g *Globals, url string) {
	if ciEnv() {
		return
	}
	var name string
	var args []string
	switch runtime.GOOS {
	case "darwin":
		name = "open"
	case "windows":
		name, args = "rundll32", []string{"url.dll,FileProtocolHandler"}
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return
		}
		name = "xdg-open"
	}
	c := exec.Command(name, append(args, url)...)
	if err := c.Start(); err != nil {
		fmt.Fprintf(g.Stderr, "Opening a browser: %v (open the address above)\n", err)
		return
	}
	go func() { _ = c.Wait() }()
}

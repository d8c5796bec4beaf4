package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/strslice"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/manifest"
)

// Run creates and starts a one-off container of a service of p (whose
// addresses are already injected), streams its output, and returns its exit
// code once it exits. The container carries the project's labels with
// io.stack.oneoff=true, so `down` and `ps -a` see it. o's user, working
// directory, labels, capabilities, volumes and ports apply to it as compose
// run applies them; it gets the service's network aliases only with
// o.UseAliases. Detached, it is started and left running: Run returns 0.
// Cancelling ctx stops the container.
func (d *Driver) Run(ctx context.Context, p *manifest.Project, o engine.RunOptions) (int, error) {
	svc, ok := p.Project.Services[o.Service]
	if !ok {
		return 0, fmt.Errorf("no such service: %q", o.Service)
	}
	d.client.NegotiateAPIVersion(ctx)
	labels := map[string]string{
		engine.LabelProject:     p.Name,
		engine.LabelService:     svc.Name,
		engine.LabelOneoff:      "true",
		engine.LabelConfigFiles: strings.Join(p.ComposeFiles, ","),
	}
	svc = o.OneOffService(svc)
	sp, _, err := containerSpec(p.Project, svc, labels, d.client.ClientVersion())
	if err != nil {
		return 0, err
	}
	if !o.UseAliases {
		dropAliases(sp)
	}
	cfg := sp.config
	cfg.Image = p.ImageName(svc.Name)
	if len(o.Command) > 0 {
		cfg.Cmd = strslice.StrSlice(o.Command)
	}
	if o.Entrypoint != nil {
		cfg.Entrypoint = strslice.StrSlice(o.Entrypoint)
	}
	cfg.Env = append(cfg.Env, o.Env...)
	cfg.AttachStdout, cfg.AttachStderr = true, true
	cfg.Tty = false
	if o.Interactive && !o.Detach {
		cfg.AttachStdin, cfg.OpenStdin, cfg.StdinOnce = true, true, true
	}
	sp.host.RestartPolicy = container.RestartPolicy{Name: container.RestartPolicyDisabled}
	if !o.ServicePorts && len(o.Publish) == 0 {
		sp.host.PortBindings = nil
	}
	// Detached, nothing is left to remove it when it exits: the engine does.
	sp.host.AutoRemove = o.Remove && o.Detach
	name := o.Name
	if name == "" {
		name = oneOffName(p.Name, svc.Name)
	}
	created, err := d.client.ContainerCreate(ctx, cfg, sp.host, sp.network, nil, name)
	if err != nil {
		return 0, fmt.Errorf("creating container %q: %w", name, err)
	}
	// Waiting and cleaning up must go on when ctx is cancelled.
	cleanup := context.WithoutCancel(ctx)
	if o.Remove && !o.Detach {
		// As docker run --rm: the anonymous volumes go with the container.
		defer func() {
			rctx, cancel := context.WithTimeout(cleanup, cleanupTimeout)
			defer cancel()
			_ = d.client.ContainerRemove(rctx, created.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
		}()
	}
	files, err := copied(p.Project, svc.Name)
	if err != nil {
		return 0, err
	}
	if err := copyInto(ctx, d.client, name, files); err != nil {
		return 0, err
	}
	for net, ep := range sp.connect {
		if err := d.client.NetworkConnect(ctx, net, created.ID, ep); err != nil {
			return 0, fmt.Errorf("connecting container %q to network %q: %w", name, net, err)
		}
	}
	if o.Detach {
		return 0, d.startDetached(ctx, name, created.ID, o)
	}
	return d.attachStartWait(ctx, cleanup, name, created.ID, o)
}

// startDetached starts the one-off and says its ID, as `docker compose
// run -d` does, without attaching to it.
func (d *Driver) startDetached(ctx context.Context, name, id string, o engine.RunOptions) error {
	if err := d.client.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return fmt.Errorf("starting container %q: %w", name, err)
	}
	if o.Detached != nil {
		o.Detached(id)
	}
	return nil
}

// attachStartWait attaches to the container before starting it, so no
// output is lost, and returns its exit code.
func (d *Driver) attachStartWait(ctx, cleanup context.Context, name, id string, o engine.RunOptions) (int, error) {
	hijack, err := d.client.ContainerAttach(ctx, id, container.AttachOptions{
		Stream: true, Stdin: o.Interactive, Stdout: true, Stderr: true,
	})
	if err != nil {
		return 0, fmt.Errorf("attaching to container %q: %w", name, err)
	}
	defer hijack.Close()
	// Wait on a context that outlives ctx: after a cancel the container is
	// stopped and its exit still has to be read.
	waitC, waitErr := d.client.ContainerWait(cleanup, id, container.WaitConditionNextExit)
	if err := d.client.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return 0, fmt.Errorf("starting container %q: %w", name, err)
	}
	var stdin io.Reader
	if o.Interactive {
		stdin = o.Stdin
	}
	output := stream(hijack, stdin, o.Stdout, o.Stderr)
	select {
	case <-ctx.Done():
		// Stop it, and wait for the exit a bounded time: a stop that failed
		// or a wait that broke must not hang the Ctrl-C.
		sctx, cancel := context.WithTimeout(cleanup, cleanupTimeout)
		defer cancel()
		timeout := 5
		_ = d.client.ContainerStop(sctx, id, container.StopOptions{Timeout: &timeout})
		select {
		case <-waitC:
		case <-waitErr:
		case <-sctx.Done():
		}
		return 0, ctx.Err()
	case err := <-waitErr:
		return 0, fmt.Errorf("waiting for container %q: %w", name, err)
	case res := <-waitC:
		// The output stream ends when the container exits; read it to the
		// end so nothing printed last is lost, but do not hang on it.
		select {
		case err := <-output:
			if err != nil && !errors.Is(err, io.EOF) {
				return 0, fmt.Errorf("reading the output of container %q: %w", name, err)
			}
		case <-time.After(5 * time.Second):
		}
		if res.Error != nil && res.Error.Message != "" {
			return 0, fmt.Errorf("waiting for container %q: %s", name, res.Error.Message)
		}
		return int(res.StatusCode), nil
	}
}

// oneOffName names a one-off container as Compose does:
// <project>-<service>-run-<random>.
func oneOffName(project, service string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%s-run-%s", project, service, hex.EncodeToString(b))
}

// stream copies stdin (when not nil) into an attached container or exec and
// its multiplexed output to stdout and stderr; the channel gets the output's
// end: nil, or why it broke.
func stream(hijack types.HijackedResponse, stdin io.Reader, stdout, stderr io.Writer) <-chan error {
	if stdin != nil {
		go func() {
			_, _ = io.Copy(hijack.Conn, stdin)
			_ = hijack.CloseWrite()
		}()
	}
	output := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(stdout, stderr, hijack.Reader)
		output <- err
	}()
	return output
}

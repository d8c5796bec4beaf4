package docker

import (
	"context"
	"fmt"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/api/types/volume"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/progress"
)

// cleanupTimeout bounds the engine calls made after the run's context is
// done: removing unused containers, reading logs for an error.
const cleanupTimeout = 30 * time.Second

// session applies one plan; it implements engine.Session.
type session struct {
	client     Client
	plan       *engine.Plan
	opts       engine.ApplyOptions
	apiVersion string
	begun      time.Time

	watchOnce sync.Once
	watch     *watcher

	sem chan struct{} // bounds background creations, as ApplyOptions.Parallel bounds actions
	mu  sync.Mutex
	pre map[string]*precreation // by service resource

	healthchecks map[string]bool // image -> declares a HEALTHCHECK
}

// Begin opens a session for plan. The project's container events are
// watched from this moment on (subscribing lazily, at the first wait, with
// the engine replaying what happened since), so no readiness change is missed
// and a plan that waits for nothing opens no event stream.
func (d *Driver) Begin(ctx context.Context, plan *engine.Plan, o engine.ApplyOptions) (engine.Session, error) {
	s := &session{client: d.client, plan: plan, opts: o, begun: time.Now(), healthchecks: map[string]bool{}}
	// Creation maps some fields differently before API 1.44; negotiating is
	// free when an earlier call (Observe) has done it.
	d.client.NegotiateAPIVersion(ctx)
	s.apiVersion = d.client.ClientVersion()
	if err := s.validate(ctx); err != nil {
		return nil, err
	}
	parallel := o.Parallel
	if parallel <= 0 {
		parallel = engine.DefaultParallel
	}
	s.sem = make(chan struct{}, parallel)
	s.planPrecreations(ctx)
	return s, nil
}

// validate checks the plan as Check does and reports the fields the engine
// cannot honour as warning events.
func (s *session) validate(ctx context.Context) error {
	warnings, err := check(s.plan, s.apiVersion)
	for _, w := range warnings {
		progress.Report(ctx, w.resource, w.action, progress.Warning, w.message, nil)
	}
	return err
}

// Close removes the containers created in advance for actions that did not
// run, and stops watching events.
func (s *session) Close() error {
	// Even after Ctrl-C: the run must not leave them; bounded, should the
	// engine not answer.
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	err := s.removeUnused(ctx)
	s.watchOnce.Do(func() {}) // no watcher starts after Close
	if s.watch != nil {
		s.watch.stop()
	}
	return err
}

// watcher returns the session's event watcher, subscribing on first use;
// ctx must outlive the session (the walker's context does).
func (s *session) watcher(ctx context.Context) *watcher {
	s.watchOnce.Do(func() { s.watch = watch(ctx, s.client, s.plan.Project, s.begun) })
	return s.watch
}

// Run carries out one action, reporting its progress.
func (s *session) Run(ctx context.Context, a *engine.Action, started func()) error {
	verb := string(a.Kind)
	if a.Kind == engine.Unchanged {
		if err := s.service(ctx, a, started); err != nil {
			progress.Report(ctx, a.Resource, verb, progress.Failed, "", err)
			return err
		}
		engine.ReportUnchanged(ctx, a)
		return nil
	}
	progress.Report(ctx, a.Resource, verb, progress.Working, a.Reason, nil)
	var err error
	switch a.Type() {
	case "network":
		err = s.network(ctx, a)
	case "volume":
		err = s.volume(ctx, a)
	case "image":
		err = s.image(ctx, a)
	case "service":
		err = s.service(ctx, a, started)
	default:
		err = fmt.Errorf("%s: unknown resource type", a.Resource)
	}
	if err != nil {
		progress.Report(ctx, a.Resource, verb, progress.Failed, "", err)
		return err
	}
	if t := a.Type(); t == "network" || t == "volume" {
		s.resourceDone(ctx, a.Resource)
	}
	progress.Report(ctx, a.Resource, verb, progress.Done, a.Reason, nil)
	return nil
}

// labels are the user's labels on a network or volume plus stack's: the
// project, the resource's key in the compose file under label, and the hash
// of its definition.
func (s *session) labels(label, key, hash string, user map[string]string) map[string]string {
	labels := map[string]string{engine.LabelProject: s.plan.Project, label: key, engine.LabelConfigHash: hash}
	for k, v := range user {
		if _, ours := labels[k]; !ours {
			labels[k] = v
		}
	}
	return labels
}

func (s *session) network(ctx context.Context, a *engine.Action) error {
	key := a.Name()
	switch a.Kind {
	case engine.Create:
		cfg := s.plan.Desired.Project.Networks[key]
		labels := s.labels(engine.LabelNetwork, key, a.ConfigHash, cfg.Labels)
		opts := network.CreateOptions{
			Driver:     cfg.Driver,
			Options:    cfg.DriverOpts,
			Internal:   cfg.Internal,
			Attachable: cfg.Attachable,
			Labels:     labels,
			EnableIPv4: cfg.EnableIPv4,
			EnableIPv6: cfg.EnableIPv6,
		}
		if cfg.Ipam.Driver != "" || len(cfg.Ipam.Config) > 0 {
			opts.IPAM = &network.IPAM{Driver: cfg.Ipam.Driver}
			for _, p := range cfg.Ipam.Config {
				opts.IPAM.Config = append(opts.IPAM.Config, network.IPAMConfig{Subnet: p.Subnet, IPRange: p.IPRange, Gateway: p.Gateway, AuxAddress: p.AuxiliaryAddresses})
			}
		}
		if cfg.EnableIPv4 != nil && versions.LessThan(s.apiVersion, "1.47") {
			progress.Report(ctx, a.Resource, string(a.Kind), progress.Warning,
				fmt.Sprintf("network %q: enable_ipv4 needs Engine API 1.47, the engine speaks %s; it is ignored", key, s.apiVersion), nil)
		}
		if _, err := s.client.NetworkCreate(ctx, cfg.Name, opts); err != nil {
			return fmt.Errorf("creating network %q: %w", cfg.Name, err)
		}
	case engine.Remove:
		return removeObserved(s.plan.Observed.Networks, key, "network", func(n engine.Resource) error {
			return s.client.NetworkRemove(ctx, n.ID)
		})
	}
	return nil
}

// removeObserved removes, with remove, each observed resource of the key; one
// already gone is fine.
func removeObserved(rs []engine.Resource, key, what string, remove func(engine.Resource) error) error {
	for _, r := range rs {
		if r.Key != key {
			continue
		}
		if err := remove(r); err != nil && !cerrdefs.IsNotFound(err) {
			return fmt.Errorf("removing %s %q: %w", what, r.Name, err)
		}
	}
	return nil
}

func (s *session) volume(ctx context.Context, a *engine.Action) error {
	key := a.Name()
	switch a.Kind {
	case engine.Create:
		cfg := s.plan.Desired.Project.Volumes[key]
		labels := s.labels(engine.LabelVolume, key, a.ConfigHash, cfg.Labels)
		if _, err := s.client.VolumeCreate(ctx, volume.CreateOptions{Name: cfg.Name, Driver: cfg.Driver, DriverOpts: cfg.DriverOpts, Labels: labels}); err != nil {
			return fmt.Errorf("creating volume %q: %w", cfg.Name, err)
		}
	case engine.Remove:
		return removeObserved(s.plan.Observed.Volumes, key, "volume", func(v engine.Resource) error {
			return s.client.VolumeRemove(ctx, v.Name, false)
		})
	}
	return nil
}

func (s *session) image(ctx context.Context, a *engine.Action) error {
	if a.Kind != engine.Remove {
		return nil
	}
	_, err := s.client.ImageRemove(ctx, a.Name(), image.RemoveOptions{PruneChildren: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("removing image %q: %w", a.Name(), err)
	}
	return nil
}

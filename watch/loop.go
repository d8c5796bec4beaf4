package watch

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/progress"
)

// Options are the rules to apply and the actions that apply them, each on
// one service.
type Options struct {
	Rules []Rule
	// Sync copies changes into the service's running containers.
	Sync func(ctx context.Context, service string, changes []engine.FileChange) error
	// Rebuild builds the service's image and replaces its containers as up
	// does.
	Rebuild func(ctx context.Context, service string) error
	// Restart restarts the service's containers.
	Restart func(ctx context.Context, service string) error
	// Exec runs a command in each of the service's running containers.
	Exec func(ctx context.Context, service string, hook types.ServiceHook) error
}

// Run watches the rules' paths until ctx ends, applying each batch of
// changes; a failed action is reported and the watch goes on. Progress
// events (resource service:<name>) say what was synced or rebuilt and how
// long it took.
func Run(ctx context.Context, o Options) error {
	var roots []string
	for _, r := range o.Rules {
		if !slices.Contains(roots, r.Path) {
			roots = append(roots, r.Path)
		}
	}
	n, err := newNotifier(roots, func(p string) bool { return skip(o.Rules, p) })
	if err != nil {
		return err
	}
	batches, errs := make(chan []string), make(chan error, 1)
	go n.batches(ctx, batches, errs)
	o.initialSync(ctx)
	progress.Report(ctx, "watch", "watch", progress.Done, "watching "+strings.Join(roots, ", "), nil)
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errs:
			progress.Report(ctx, "watch", "watch", progress.Warning, err.Error(), nil)
		case b := <-batches:
			o.apply(ctx, b)
		}
	}
}

// skip: no rule watches p, nor lies under it.
func skip(rules []Rule, p string) bool {
	for _, r := range rules {
		if r.watches(p) || strings.HasPrefix(r.Path, p+string(filepath.Separator)) {
			return false
		}
	}
	return true
}

// work is what a batch asks of one service.
type work struct {
	rebuild, restart bool
	changes          []engine.FileChange
	execs            []types.ServiceHook
}

// apply applies one batch, service by service, in the rules' order.
func (o Options) apply(ctx context.Context, batch []string) {
	byService, order := map[string]*work{}, []string{}
	for _, r := range o.Rules {
		for _, f := range batch {
			if !r.Matches(f) {
				continue
			}
			w := byService[r.Service]
			if w == nil {
				w = &work{}
				byService[r.Service], order = w, append(order, r.Service)
			}
			o.plan(w, r, f)
		}
	}
	for _, s := range order {
		o.run(ctx, s, byService[s])
	}
}

// plan adds what the change of f under rule r asks to w.
func (o Options) plan(w *work, r Rule, f string) {
	switch r.Action {
	case types.WatchActionRebuild:
		w.rebuild = true
		return
	case types.WatchActionRestart:
		w.restart = true
		return
	}
	if isDir(f) {
		return // its files come one by one
	}
	ch := engine.FileChange{Local: f, Container: r.ContainerPath(f)}
	if !exists(f) {
		ch = engine.FileChange{Container: ch.Container, Delete: true}
	}
	if !slices.Contains(w.changes, ch) {
		w.changes = append(w.changes, ch)
	}
	switch r.Action {
	case types.WatchActionSyncRestart:
		w.restart = true
	case types.WatchActionSyncExec:
		if !slices.ContainsFunc(w.execs, func(h types.ServiceHook) bool { return slices.Equal(h.Command, r.Exec.Command) }) {
			w.execs = append(w.execs, r.Exec)
		}
	}
}

// run does w for service s: a rebuild replaces the containers, so it makes
// any sync of the batch moot.
func (o Options) run(ctx context.Context, s string, w *work) {
	res := "service:" + s
	start := time.Now()
	if w.rebuild {
		progress.Report(ctx, res, "rebuild", progress.Working, "files changed: rebuilding", nil)
		if err := o.Rebuild(ctx, s); err != nil {
			progress.Report(ctx, res, "rebuild", progress.Failed, "", err)
			return
		}
		progress.Report(ctx, res, "rebuild", progress.Done, "rebuilt and replaced in "+since(start), nil)
		return
	}
	if len(w.changes) > 0 {
		if err := o.Sync(ctx, s, w.changes); err != nil {
			progress.Report(ctx, res, "sync", progress.Failed, "", err)
			return
		}
		progress.Report(ctx, res, "sync", progress.Done, fmt.Sprintf("%s in %s", describe(w.changes), since(start)), nil)
	}
	for _, h := range w.execs {
		t := time.Now()
		if err := o.Exec(ctx, s, h); err != nil {
			progress.Report(ctx, res, "exec", progress.Failed, strings.Join(h.Command, " "), err)
			return
		}
		progress.Report(ctx, res, "exec", progress.Done, fmt.Sprintf("%s in %s", strings.Join(h.Command, " "), since(t)), nil)
	}
	if w.restart {
		t := time.Now()
		if err := o.Restart(ctx, s); err != nil {
			progress.Report(ctx, res, "restart", progress.Failed, "", err)
			return
		}
		progress.Report(ctx, res, "restart", progress.Done, "restarted in "+since(t), nil)
	}
}

// initialSync syncs every file of the rules with initial_sync.
func (o Options) initialSync(ctx context.Context) {
	var batch []string
	initial := o
	initial.Rules = nil
	for _, r := range o.Rules {
		if !r.InitialSync || !r.Syncs() {
			continue
		}
		initial.Rules = append(initial.Rules, r)
		_ = filepath.WalkDir(r.Path, func(p string, d fs.DirEntry, err error) error {
			switch {
			case err != nil:
				return nil
			case d.IsDir() && p != r.Path && !r.watches(p):
				return filepath.SkipDir
			case !d.IsDir() && r.Matches(p):
				batch = append(batch, p)
			}
			return nil
		})
	}
	if len(batch) > 0 {
		initial.apply(ctx, batch)
	}
}

// describe names the files synced: one by its container path, more by count.
func describe(changes []engine.FileChange) string {
	var copied, deleted int
	for _, c := range changes {
		if c.Delete {
			deleted++
		} else {
			copied++
		}
	}
	if len(changes) == 1 {
		verb := "synced "
		if deleted == 1 {
			verb = "deleted "
		}
		return verb + changes[0].Container
	}
	return fmt.Sprintf("synced %d files, deleted %d", copied, deleted)
}

func since(t time.Time) string { return time.Since(t).Round(time.Millisecond).String() }

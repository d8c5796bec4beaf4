package watch

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Quiet is how long the files must stay unchanged before a batch goes out:
// an editor's save, a git checkout or a formatter's run is one batch.
const Quiet = 30 * time.Millisecond

// maxBatchWait bounds a batch under changes that never stop.
const maxBatchWait = time.Second

// notifier watches directory trees with fsnotify, which watches one
// directory at a time on Linux: each directory is added, and each one
// created later as it appears, its files counted as changed.
type notifier struct {
	w    *fsnotify.Watcher
	skip func(string) bool
}

func newNotifier(roots []string, skip func(string) bool) (*notifier, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watching files: %w", err)
	}
	n := &notifier{w: w, skip: skip}
	for _, r := range roots {
		// A path not there yet is watched from its parent.
		for !exists(r) && filepath.Dir(r) != r {
			r = filepath.Dir(r)
		}
		if _, err := n.add(r); err != nil {
			w.Close()
			return nil, err
		}
	}
	return n, nil
}

func exists(p string) bool { _, err := os.Lstat(p); return err == nil }

// add watches root and, when it is a directory, every directory under it
// not skipped; it returns the files found there.
func (n *notifier) add(root string) ([]string, error) {
	if !isDir(root) {
		return []string{root}, n.w.Add(filepath.Dir(root))
	}
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if n.skip(p) && p != root {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if err := n.w.Add(p); err != nil {
				return fmt.Errorf("watching %s: %w", p, err)
			}
			return nil
		}
		files = append(files, p)
		return nil
	})
	return files, err
}

// batches sends the paths changed, coalesced: once no change came for
// Quiet (or maxBatchWait passed), sorted, each once.
func (n *notifier) batches(ctx context.Context, out chan<- []string, errs chan<- error) {
	defer n.w.Close()
	pending := map[string]bool{}
	var quiet, bound <-chan time.Time
	flush := func() {
		if len(pending) == 0 {
			return
		}
		batch := make([]string, 0, len(pending))
		for p := range pending {
			batch = append(batch, p)
		}
		sort.Strings(batch)
		pending, quiet, bound = map[string]bool{}, nil, nil
		select {
		case out <- batch:
		case <-ctx.Done():
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case err := <-n.w.Errors:
			select {
			case errs <- fmt.Errorf("watching files: %w", err):
			default:
			}
		case e, ok := <-n.w.Events:
			if !ok {
				return
			}
			if n.skip(e.Name) {
				continue
			}
			pending[e.Name] = true
			if e.Has(fsnotify.Create) && isDir(e.Name) {
				files, _ := n.add(e.Name)
				for _, f := range files {
					pending[f] = true
				}
			}
			quiet = time.After(Quiet)
			if bound == nil {
				bound = time.After(maxBatchWait)
			}
		case <-quiet:
			flush()
		case <-bound:
			flush()
		}
	}
}

package watch

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestNotifierCoalescesAndRecurses: a burst of writes is one batch; a
// directory created later is watched, and files written into it are
// reported; a skipped directory is not watched.
func TestNotifierCoalescesAndRecurses(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "skipped"), 0o755); err != nil {
		t.Fatal(err)
	}
	n, err := newNotifier([]string{dir}, func(p string) bool { return filepath.Base(p) == "skipped" })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out, errs := make(chan []string), make(chan error, 1)
	go n.batches(ctx, out, errs)
	next := func() []string {
		t.Helper()
		select {
		case b := <-out:
			return b
		case err := <-errs:
			t.Fatal(err)
		case <-time.After(10 * time.Second):
			t.Fatal("no batch within 10s")
		}
		return nil
	}
	write := func(name string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"a", "b", "c", "skipped/x"} {
		write(f)
	}
	if b := next(); !slices.Equal(b, []string{filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "c")}) {
		t.Errorf("first batch: %v, want a, b and c once each, nothing skipped", b)
	}
	if err := os.MkdirAll(filepath.Join(dir, "new", "deeper"), 0o755); err != nil {
		t.Fatal(err)
	}
	b := next()
	if !slices.Contains(b, filepath.Join(dir, "new")) {
		t.Errorf("the new directory: %v", b)
	}
	// Both directories are watched now (the deeper one was added with it).
	deadline := time.Now().Add(10 * time.Second)
	for {
		write("new/deeper/f")
		if b := next(); slices.Contains(b, filepath.Join(dir, "new", "deeper", "f")) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a file in a directory created after the start is never reported")
		}
	}
}

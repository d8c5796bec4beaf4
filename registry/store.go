package registry

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/stack-deploy/stack/manifest"
)

// Store keeps the release locks of a project, one directory per environment:
//
//	<Dir>/<environment>/<created, UTC, 20060102T150405Z>-<tag>.json
//	<Dir>/<environment>/current    the file name of the lock deployed last
//
// Dir is <project directory>/.stack/releases by default (DefaultStoreDir),
// meant to be committed with the code, so that a release is reviewed and
// rolled back like any change. A lock file is never rewritten: a new release
// or promotion adds a file, then moves current, each by an atomic rename.
type Store struct {
	Dir string
}

// DefaultStoreDir is where a project's locks live, below its directory.
func DefaultStoreDir(projectDir string) string {
	return filepath.Join(projectDir, ".stack", "releases")
}

// CurrentFile is the name of the pointer to an environment's newest lock.
const CurrentFile = "current"

const timeLayout = "20060102T150405Z"

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// Save writes l as a new lock file of its environment, then points current
// at it, and returns the file's path. When the current lock already says
// what l says (all but the time it was written), nothing is written and its
// path is returned: promoting the same release twice changes nothing.
func (s Store) Save(l *Lock) (string, error) {
	if err := l.Validate(); err != nil {
		return "", fmt.Errorf("saving lock: %w", err)
	}
	b, err := l.Marshal()
	if err != nil {
		return "", fmt.Errorf("saving lock: %w", err)
	}
	if cur, err := s.Current(l.Environment); err == nil {
		if old, err := ReadLock(cur); err == nil && sameRelease(old, l) {
			return cur, nil
		}
	}
	return s.write(l, b, true)
}

// Import writes l, a lock of the history read from elsewhere (the
// environment's registry), as a lock file of its environment unless one
// says exactly what it says, and returns the file's path; current is left
// as it is.
func (s Store) Import(l *Lock) (string, error) {
	if err := l.Validate(); err != nil {
		return "", fmt.Errorf("saving lock: %w", err)
	}
	entries, err := s.List(l.Environment)
	if err != nil {
		return "", err
	}
	id := LockID(l)
	for _, e := range entries {
		if e.Lock != nil && LockID(e.Lock) == id {
			return e.Path, nil
		}
	}
	b, err := l.Marshal()
	if err != nil {
		return "", fmt.Errorf("saving lock: %w", err)
	}
	return s.write(l, b, false)
}

// write writes l (marshalled as b) as a new lock file of its environment,
// and points current at it when asked.
func (s Store) write(l *Lock, b []byte, current bool) (string, error) {
	dir := filepath.Join(s.Dir, l.Environment)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return "", fmt.Errorf("saving lock: %w", err)
	}
	base := l.Created.UTC().Format(timeLayout)
	if l.Tag != "" {
		base += "-" + unsafeChars.ReplaceAllString(l.Tag, "_")
	}
	file := base + ".json"
	for i := 2; ; i++ { // two saves in the same second with the same tag
		_, err := os.Lstat(filepath.Join(dir, file))
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("saving lock: %w", err)
		}
		file = fmt.Sprintf("%s.%d.json", base, i)
	}
	path := filepath.Join(dir, file)
	if err := writeFileAtomic(path, b); err != nil {
		return "", fmt.Errorf("saving lock %s: %w", path, err)
	}
	if !current {
		return path, nil
	}
	if err := writeFileAtomic(filepath.Join(dir, CurrentFile), []byte(file+"\n")); err != nil {
		return "", fmt.Errorf("pointing %s at %s: %w", filepath.Join(dir, CurrentFile), file, err)
	}
	return path, nil
}

// Current returns the path of env's current lock; ErrNoRelease when there
// is none.
func (s Store) Current(env string) (string, error) {
	dir := filepath.Join(s.Dir, env)
	b, err := os.ReadFile(filepath.Join(dir, CurrentFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w for environment %q in %s: make one with stack release --env %s, or stack promote", ErrNoRelease, env, dir, env)
	}
	if err != nil {
		return "", fmt.Errorf("reading the current release of %q: %w", env, err)
	}
	name := strings.TrimSpace(string(b))
	if name == "" || strings.ContainsAny(name, `/\`) {
		return "", fmt.Errorf("reading the current release of %q: %s holds %q, not a lock file name", env, filepath.Join(dir, CurrentFile), name)
	}
	return filepath.Join(dir, name), nil
}

// Entry is one lock of an environment.
type Entry struct {
	Path    string
	Lock    *Lock
	Current bool
	// Err is set, and Lock nil, for a file that is not a valid lock.
	Err error

	modTime time.Time // orders locks created in the same second
}

// List returns env's locks, newest (by Created) first. Files that do not
// read as locks are listed with Err so that nothing is silently hidden.
func (s Store) List(env string) ([]Entry, error) {
	dir := filepath.Join(s.Dir, env)
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing releases of %q: %w", env, err)
	}
	current, err := s.Current(env)
	if err != nil && !errors.Is(err, ErrNoRelease) {
		return nil, err
	}
	var out []Entry
	for _, de := range des {
		if de.IsDir() || !strings.HasSuffix(de.Name(), ".json") || strings.HasPrefix(de.Name(), ".") {
			continue
		}
		path := filepath.Join(dir, de.Name())
		l, err := ReadLock(path)
		e := Entry{Path: path, Lock: l, Current: path == current, Err: err}
		if fi, err := de.Info(); err == nil {
			e.modTime = fi.ModTime()
		}
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(a, b Entry) int {
		ta, tb := created(a), created(b)
		if c := tb.Compare(ta); c != 0 {
			return c
		}
		return b.modTime.Compare(a.modTime)
	})
	return out, nil
}

func created(e Entry) time.Time {
	if e.Lock == nil {
		return time.Time{}
	}
	return e.Lock.Created
}

// sameRelease reports whether a and b say the same but for when they were
// written.
func sameRelease(a, b *Lock) bool {
	x, y := *a, *b
	x.Created, y.Created = time.Time{}, time.Time{}
	bx, errx := x.Marshal()
	by, erry := y.Marshal()
	return errx == nil && erry == nil && bytes.Equal(bx, by)
}

// CurrentLock is the --lock value that means the environment's current lock.
const CurrentLock = "current"

// LockFor resolves a --lock argument for p's environment: CurrentLock (or
// "") names the environment's current lock in the project's store, anything
// else is a path.
func LockFor(p *manifest.Project, arg string) (string, error) {
	if arg != "" && arg != CurrentLock {
		return arg, nil
	}
	if p.Env == nil {
		return "", fmt.Errorf("--lock %s: choose the environment with --env (or STACK_ENV)", CurrentLock)
	}
	return Store{Dir: DefaultStoreDir(p.WorkingDir)}.Current(p.Env.Name)
}

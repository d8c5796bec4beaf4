package registry

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/stack-deploy/stack/lock"
	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/progress"
)

// VerificationsFile is, in an environment's directory of the Store, the
// log of its verifications (`stack verify`): one JSON object a line.
const VerificationsFile = "verifications.log"

// Verification is the outcome of one run of an environment's checks
// against the release it ran.
type Verification struct {
	// ID is the record's own id, the same in the log and in the registry.
	ID string `json:"id"`
	// Release is the LockID of the release verified, Tag its tag.
	Release string    `json:"release"`
	Tag     string    `json:"tag,omitempty"`
	Time    time.Time `json:"time"`
	// By is who ran it: user@host.
	By     string `json:"by"`
	Passed bool   `json:"passed"`
	// Checks are the checks' results in the order they are configured.
	Checks []CheckResult `json:"checks"`
}

// CheckResult is one check's outcome.
type CheckResult struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	// Output is what a failed check said (its output, or the answer it
	// got), truncated.
	Output string `json:"output,omitempty"`
}

// Failed returns the first check that failed; nil when every one passed.
func (v *Verification) Failed() *CheckResult {
	for i := range v.Checks {
		if !v.Checks[i].Passed {
			return &v.Checks[i]
		}
	}
	return nil
}

// Who is the user and host a record is made by: user@host, as the deploy
// lock names its holder.
func Who() string {
	h := lock.Me("")
	return h.User + "@" + h.Host
}

// History is one environment's release history: the lock files and logs
// of the Store (the readable, diffable copy in the checkout) and the
// records in the environment's registry (the copy every checkout shares).
// Writing writes both; reading merges them.
type History struct {
	Store   Store
	Project string
	Env     string
	// Remote is the copy in the environment's registry; nil when the
	// environment has none.
	Remote *Records
}

// NewHistory returns the history of p's environment (p is loaded for one).
func NewHistory(p *manifest.Project, pr *Promoter) (*History, error) {
	if p.Env == nil {
		return nil, fmt.Errorf("choose the environment with --env (or STACK_ENV): one of %v", manifest.EnvironmentNames(p))
	}
	h := &History{Store: Store{Dir: DefaultStoreDir(p.WorkingDir)}, Project: p.Name, Env: p.Env.Name}
	if p.Env.Registry != "" {
		r, err := pr.Records(p.Env.Registry)
		if err != nil {
			return nil, err
		}
		h.Remote = r
	}
	return h, nil
}

// SaveLock saves l as the environment's newest lock (Store.Save) and stores
// it in the registry; it returns the lock file's path. A registry that
// cannot take the record is reported as a warning: the release is made.
func (h *History) SaveLock(ctx context.Context, l *Lock) (string, error) {
	path, err := h.Store.Save(l)
	if err != nil {
		return "", err
	}
	// The lock as saved: the current one when it said the same already
	// (promoting one release twice), which the registry then has too.
	saved, err := ReadLock(path)
	if err != nil {
		return "", err
	}
	h.put(ctx, Record{Kind: RecordLock, Lock: saved})
	return path, nil
}

// RecordDeploy records an attempt to deploy the lock at lockPath, failed
// when deployErr is not nil; rollbackFrom is the LockID of the release a
// rollback replaced, "" otherwise.
func (h *History) RecordDeploy(ctx context.Context, lockPath string, l *Lock, when time.Time, deployErr error, rollbackFrom string) error {
	d := Deploy{Lock: filepath.Base(lockPath), Time: when.UTC().Truncate(time.Second), Release: LockID(l), By: Who(), ID: newRecordID(), RollbackFrom: rollbackFrom}
	if deployErr != nil {
		d.Error = deployErr.Error()
	}
	if err := h.Store.appendLine(h.Env, DeploysFile, d); err != nil {
		return fmt.Errorf("recording the deploy: %w", err)
	}
	h.put(ctx, Record{Kind: RecordDeploy, Deploy: &d})
	return nil
}

// RecordVerification records v (its ID, By and Time are filled in when
// empty).
func (h *History) RecordVerification(ctx context.Context, v Verification) error {
	if v.ID == "" {
		v.ID = newRecordID()
	}
	if v.By == "" {
		v.By = Who()
	}
	if v.Time.IsZero() {
		v.Time = time.Now()
	}
	v.Time = v.Time.UTC().Truncate(time.Second)
	if err := h.Store.appendLine(h.Env, VerificationsFile, v); err != nil {
		return fmt.Errorf("recording the verification: %w", err)
	}
	h.put(ctx, Record{Kind: RecordVerify, Verification: &v})
	return nil
}

// put stores rec in the registry, warning when it cannot.
func (h *History) put(ctx context.Context, rec Record) {
	if h.Remote == nil {
		return
	}
	rec.Project, rec.Environment = h.Project, h.Env
	if err := h.Remote.Put(ctx, rec); err != nil {
		progress.Report(ctx, "release:"+h.Env, "record", progress.Warning,
			fmt.Sprintf("the history in the registry misses this %s record (the checkout's .stack/releases has it): %v", rec.Kind, err), nil)
	}
}

// LockFile returns the path of a lock file of r: its own, or one written
// from the registry's copy into the Store.
func (h *History) LockFile(r *Release) (string, error) {
	if r.Path != "" {
		return r.Path, nil
	}
	return h.Store.Import(r.Lock)
}

// appendLine appends v as one JSON line to env's file.
func (s Store) appendLine(env, file string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dir := filepath.Join(s.Dir, env)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, file), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// readLines reads env's file of JSON lines; lines that do not read as T
// are left out, a missing file holds none.
func readLines[T any](s Store, env, file string) ([]T, error) {
	f, err := os.Open(filepath.Join(s.Dir, env, file))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s of %q: %w", file, env, err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		var v T
		if json.Unmarshal(sc.Bytes(), &v) == nil {
			out = append(out, v)
		}
	}
	return out, sc.Err()
}

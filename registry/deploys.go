package registry

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// DeploysFile is, in an environment's directory of the Store, the log of
// the deploys of its locks (`stack up --env ENV --lock ...`): one JSON
// object a line, appended, so `stack releases` can say which attempt failed.
const DeploysFile = "deploys.log"

// Deploy is one attempt to deploy a lock.
type Deploy struct {
	// Lock is the lock file's name in the environment's directory.
	Lock string    `json:"lock"`
	Time time.Time `json:"time"`
	// Error says why it failed; empty when it succeeded.
	Error string `json:"error,omitempty"`
	// Release is the lock's LockID; By who deployed it (user@host); ID
	// the record's own id, the same in the log and in the registry.
	Release string `json:"release,omitempty"`
	By      string `json:"by,omitempty"`
	ID      string `json:"id,omitempty"`
	// RollbackFrom is the LockID of the release a rollback replaced.
	RollbackFrom string `json:"rollback_from,omitempty"`
}

// RecordDeploy appends the outcome of deploying the lock at lockPath (a
// lock of env, in this Store or elsewhere) to env's deploy log.
func (s Store) RecordDeploy(env, lockPath string, when time.Time, deployErr error) error {
	d := Deploy{Lock: filepath.Base(lockPath), Time: when.UTC().Truncate(time.Second)}
	if deployErr != nil {
		d.Error = deployErr.Error()
	}
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	dir := filepath.Join(s.Dir, env)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return fmt.Errorf("recording the deploy: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, DeploysFile), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o666)
	if err != nil {
		return fmt.Errorf("recording the deploy: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("recording the deploy: %w", err)
	}
	return nil
}

// LastDeploys returns the last attempt to deploy each of env's locks, by
// lock file name; lines that do not read are left out.
func (s Store) LastDeploys(env string) (map[string]Deploy, error) {
	f, err := os.Open(filepath.Join(s.Dir, env, DeploysFile))
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]Deploy{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the deploys of %q: %w", env, err)
	}
	defer f.Close()
	out := map[string]Deploy{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		var d Deploy
		if json.Unmarshal(sc.Bytes(), &d) == nil && d.Lock != "" {
			out[d.Lock] = d
		}
	}
	return out, sc.Err()
}

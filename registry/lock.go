package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
)

// LockVersion is the format version this package writes and reads.
const LockVersion = 1

// Lock is one release of a stack to one environment: the exact image of
// every service, by digest, and what it was made from. It is written as
// indented JSON with sorted keys, one value a line, so that two releases
// diff line by line in code review.
type Lock struct {
	Version int `json:"version"`
	// Project is the compose project name.
	Project string `json:"project"`
	// Environment is the environment the images live in (their registry).
	Environment string `json:"environment"`
	// Tag names the release; the images carry it as their tag too.
	Tag string `json:"tag"`
	// Created is when this lock was written (UTC, second precision).
	Created time.Time `json:"created"`
	// CreatedBy is who wrote it: user@host.
	CreatedBy string `json:"created_by,omitempty"`
	// GitCommit is the commit of the project directory's checkout, when there
	// is one; GitDirty says it had uncommitted changes.
	GitCommit string `json:"git_commit,omitempty"`
	GitDirty  bool   `json:"git_dirty,omitempty"`
	// Manifest identifies the compose files the release was made from.
	Manifest ManifestHash `json:"manifest"`
	// Services maps each service to its image.
	Services map[string]ServiceImage `json:"services"`
	// PromotedFrom is set on a lock written by promotion.
	PromotedFrom *Origin `json:"promoted_from,omitempty"`
}

// ServiceImage is one service's image in a release.
type ServiceImage struct {
	// Image is the full reference with its digest: <registry>/<service>@sha256:...
	Image string `json:"image"`
	// Source is what the compose files name ("redis:7-alpine"), or "build"
	// for an image built from the service's build section.
	Source string `json:"source,omitempty"`
}

// Origin is where a promoted release came from.
type Origin struct {
	Environment string    `json:"environment"`
	Created     time.Time `json:"created"`
	// Forced says the release was promoted with --force though it was not
	// verified in Environment; Unverified says why it was not.
	Forced     bool   `json:"forced,omitempty"`
	Unverified string `json:"unverified,omitempty"`
}

// Digest returns the sha256:... part of the image reference.
func (s ServiceImage) Digest() (string, error) {
	d, err := name.NewDigest(s.Image, name.StrictValidation)
	if err != nil {
		return "", err
	}
	return d.DigestStr(), nil
}

// ServiceNames returns the lock's services, sorted.
func (l *Lock) ServiceNames() []string {
	names := make([]string, 0, len(l.Services))
	for n := range l.Services {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Marshal renders the lock as written to disk: indented JSON, keys sorted,
// a trailing newline.
func (l *Lock) Marshal() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(l); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Validate checks that the lock is complete: every field a deploy or a
// promotion relies on is there and every image is pinned by digest.
func (l *Lock) Validate() error {
	var problems []string
	if l.Version != LockVersion {
		problems = append(problems, fmt.Sprintf("version %d: this stack reads version %d", l.Version, LockVersion))
	}
	if l.Environment == "" {
		problems = append(problems, "environment is empty")
	}
	if l.Manifest.Hash == "" {
		problems = append(problems, "manifest.hash is empty")
	}
	if len(l.Services) == 0 {
		problems = append(problems, "services is empty")
	}
	for _, svc := range l.ServiceNames() {
		if _, err := l.Services[svc].Digest(); err != nil {
			problems = append(problems, fmt.Sprintf("services.%s.image %q is not pinned by digest (repo@sha256:...): %v", svc, l.Services[svc].Image, err))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidLock, strings.Join(problems, "; "))
	}
	return nil
}

// ReadLock reads and validates the lock file at path.
func ReadLock(path string) (*Lock, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading lock: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var l Lock
	if err := dec.Decode(&l); err != nil {
		return nil, fmt.Errorf("reading lock %s: %w: %w", path, ErrInvalidLock, err)
	}
	if err := l.Validate(); err != nil {
		return nil, fmt.Errorf("reading lock %s: %w", path, err)
	}
	return &l, nil
}

// writeFileAtomic writes b to path through a temporary file in the same
// directory and a rename, so a reader sees the old file or the new one,
// never half of one. The file is created 0666 less the umask, as any tool
// writes a file meant to be committed and read by others (os.CreateTemp's
// 0600 would hide it from a group that shares the checkout).
func writeFileAtomic(path string, b []byte) error {
	f, err := createTemp(filepath.Dir(path), "."+filepath.Base(path)+".", 0o666)
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(b)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		_ = os.Remove(tmp)
	}
	return werr
}

// createTemp creates a new file dir/<prefix><random> with perm less the
// umask: os.CreateTemp, but with the mode a caller chooses.
func createTemp(dir, prefix string, perm fs.FileMode) (*os.File, error) {
	for range 10000 {
		f, err := os.OpenFile(filepath.Join(dir, prefix+strconv.FormatUint(rand.Uint64(), 36)), os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("creating a temporary file in %s: every name tried exists", dir)
}

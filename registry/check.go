package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stack-deploy/stack/manifest"
)

// ManifestHash identifies the compose files a release was made from: the
// base files only (not an environment's own override files, which differ
// between staging and prod by design), by content and by their path relative
// to the project directory, so the same checkout hashes the same in any
// directory, on any machine and with any environment variables.
type ManifestHash struct {
	// Hash covers every file, in merge order: sha256:<hex>.
	Hash string `json:"hash"`
	// Files holds each file's own sha256, by relative path, to show which
	// one changed when Hash differs.
	Files map[string]string `json:"files"`
}

// HashManifest computes p's ManifestHash from the files on disk.
func HashManifest(p *manifest.Project) (ManifestHash, error) {
	files := p.ComposeFiles
	if p.Env != nil {
		files = p.Env.BaseFiles
	}
	whole := sha256.New()
	mh := ManifestHash{Files: map[string]string{}}
	for _, f := range files {
		if f == "-" {
			return ManifestHash{}, fmt.Errorf("hashing the manifest: a release needs its compose files on disk, not on standard input")
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return ManifestHash{}, fmt.Errorf("hashing the manifest: %w", err)
		}
		rel := f
		if r, err := filepath.Rel(p.WorkingDir, f); err == nil && !strings.HasPrefix(r, "..") {
			rel = filepath.ToSlash(r)
		}
		sum := sha256.Sum256(b)
		mh.Files[rel] = "sha256:" + hex.EncodeToString(sum[:])
		fmt.Fprintf(whole, "%s\x00%x\n", rel, sum)
	}
	mh.Hash = "sha256:" + hex.EncodeToString(whole.Sum(nil))
	return mh, nil
}

// MismatchError says every way a lock differs from the manifest it is
// checked against. It wraps ErrLockMismatch.
type MismatchError struct {
	// Lock names the lock (its path, or its environment and tag).
	Lock string
	// Differences are one line each: what the lock says, what the manifest says.
	Differences []string
	// Fix says how to proceed.
	Fix string
}

func (e *MismatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "lock %s does not match the manifest:", e.Lock)
	for _, d := range e.Differences {
		b.WriteString("\n  " + d)
	}
	if e.Fix != "" {
		b.WriteString("\n" + e.Fix)
	}
	return b.String()
}

func (e *MismatchError) Unwrap() error { return ErrLockMismatch }

// Check says whether l can deploy p: the lock was made for p's environment
// (when one is selected), covers every service p runs, and was made from the
// same compose files. The error is a *MismatchError listing every difference;
// name is how it refers to the lock (usually its path).
func (l *Lock) Check(p *manifest.Project, name string) error {
	mh, err := HashManifest(p)
	if err != nil {
		return err
	}
	e := &MismatchError{Lock: name}
	if p.Env != nil && l.Environment != p.Env.Name {
		e.Differences = append(e.Differences, fmt.Sprintf("environment: the lock is for %q, the command for %q", l.Environment, p.Env.Name))
		e.Fix = fmt.Sprintf("promote the release first (stack promote %s %s --lock %s), or pick one of %s's locks (stack releases --env %s)",
			l.Environment, p.Env.Name, name, p.Env.Name, p.Env.Name)
	}
	if l.Project != "" && l.Project != p.Name {
		e.Differences = append(e.Differences, fmt.Sprintf("project: the lock is for %q, the manifest is %q", l.Project, p.Name))
	}
	for _, svc := range p.ServiceNames() {
		if _, ok := l.Services[svc]; !ok {
			e.Differences = append(e.Differences, fmt.Sprintf("service %s: in the manifest, not in the lock", svc))
		}
	}
	if mh.Hash != l.Manifest.Hash {
		diffs := fileDifferences(l.Manifest.Files, mh.Files)
		if len(diffs) == 0 {
			diffs = []string{fmt.Sprintf("compose files: the same files in another order (lock %s, now %s)", short(l.Manifest.Hash), short(mh.Hash))}
		}
		e.Differences = append(e.Differences, diffs...)
	}
	if len(e.Differences) == 0 {
		return nil
	}
	if e.Fix == "" {
		from := "the compose files the release was made from"
		if l.GitCommit != "" {
			from += " (git checkout " + l.GitCommit + ")"
		}
		e.Fix = "deploy from " + from + ", or make a new release of these (stack release, then stack promote)"
	}
	return e
}

// fileDifferences lists the files added, removed or changed between the
// lock's manifest and the current one.
func fileDifferences(locked, now map[string]string) []string {
	var out []string
	for _, f := range sortedKeys(locked) {
		switch cur, ok := now[f]; {
		case !ok:
			out = append(out, fmt.Sprintf("compose files: %s is in the lock's manifest, not in this one", f))
		case cur != locked[f]:
			out = append(out, fmt.Sprintf("%s: changed since the release (lock %s, now %s)", f, short(locked[f]), short(cur)))
		}
	}
	for _, f := range sortedKeys(now) {
		if _, ok := locked[f]; !ok {
			out = append(out, fmt.Sprintf("compose files: %s is in this manifest, not in the lock's", f))
		}
	}
	return out
}

// Pin makes p deploy exactly l's images: after checking l against p (see
// Check), every service's image becomes its locked repo@sha256 reference,
// its build section is dropped (nothing is built for a release) and its pull
// policy becomes "missing" (a digest never changes, so one pull is enough).
func Pin(p *manifest.Project, l *Lock, name string) error {
	if err := l.Check(p, name); err != nil {
		return err
	}
	PinImages(p, l)
	return nil
}

// PinImages is Pin without the check: every service of p that l pins runs
// l's image, as deployed (for a one-off next to what runs).
func PinImages(p *manifest.Project, l *Lock) {
	for svcName, svc := range p.Project.Services {
		if _, ok := l.Services[svcName]; !ok {
			continue
		}
		svc.Image = l.Services[svcName].Image
		svc.Build = nil
		svc.PullPolicy = types.PullPolicyMissing
		p.Project.Services[svcName] = svc
	}
}

func short(digest string) string {
	hexPart := strings.TrimPrefix(digest, "sha256:")
	if len(hexPart) > 12 {
		return hexPart[:12]
	}
	return hexPart
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

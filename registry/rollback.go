package registry

import (
	"fmt"
	"path/filepath"
	"strings"
)

// RollbackTarget chooses the release a rollback returns to, from an
// environment's history (newest first, the running release marked): the
// newest release older than the running one whose last verification
// passed (Status verified), never one marked failed nor one a rollback
// already replaced. When no release runs (nothing, or something no lock
// pins), the newest such release of all. The error says what each
// release passed over was.
func RollbackTarget(releases []*Release) (*Release, error) {
	start := 0
	var running *Release
	for i, r := range releases {
		if r.Running {
			start, running = i+1, r
			break
		}
	}
	var skipped []string
	for _, r := range releases[start:] {
		s := r.Status()
		if s.State == StateVerified && !s.RolledBack {
			return r, nil
		}
		why := s.State
		switch {
		case s.State == StateFailed:
			why = "failed: " + s.Detail
		case s.State == StateVerified && s.RolledBack:
			why = "rolled back"
		case s.State == StateDeployed:
			why = "deployed, never verified"
		case s.State == StateReleased || s.State == StatePromoted:
			why = "never deployed"
		}
		skipped = append(skipped, fmt.Sprintf("%s (%s)", r.Lock.Tag, why))
	}
	what := "no release"
	if running != nil {
		what = "no release older than the running " + running.Lock.Tag
	}
	if len(skipped) > 0 {
		what += " was deployed and verified: " + strings.Join(skipped, ", ")
	} else {
		what += " to roll back to"
	}
	return nil, fmt.Errorf("%w: %s", ErrNoRollback, what)
}

// FindRelease finds the release arg names: a tag (the newest with it), a
// lock file (its path or name), or a LockID or a prefix of its hex of at
// least 7 digits.
func FindRelease(releases []*Release, arg string) (*Release, error) {
	for _, r := range releases {
		if r.Lock.Tag == arg {
			return r, nil
		}
	}
	for _, r := range releases {
		if r.Path != "" && (r.Path == arg || filepath.Base(r.Path) == arg || filepath.Base(r.Path) == filepath.Base(arg)) {
			return r, nil
		}
	}
	hex := strings.TrimPrefix(arg, "sha256:")
	if len(hex) >= 7 {
		var found []*Release
		for _, r := range releases {
			if strings.HasPrefix(strings.TrimPrefix(r.ID, "sha256:"), hex) {
				found = append(found, r)
			}
		}
		if len(found) == 1 {
			return found[0], nil
		}
	}
	tags := make([]string, 0, len(releases))
	for _, r := range releases {
		tags = append(tags, r.Lock.Tag)
	}
	return nil, fmt.Errorf("%w: %q is no tag, lock file or id of this environment's releases (%s)", ErrNoRelease, arg, strings.Join(tags, ", "))
}

package registry

import "fmt"

// PreviousRelease chooses the release an undone deploy returns to: of the
// releases other than the running one, the one last deployed successfully,
// which ran before it, verified or not. When no release runs, the last
// deployed of all. ErrNoRollback when none was ever deployed.
func PreviousRelease(releases []*Release) (*Release, error) {
	var prev, running *Release
	for _, r := range releases {
		if r.Running {
			running = r
			continue
		}
		if t := r.lastDeployed(); !t.IsZero() && (prev == nil || t.After(prev.lastDeployed())) {
			prev = r
		}
	}
	if prev != nil {
		return prev, nil
	}
	if running != nil {
		return nil, fmt.Errorf("%w: no release was deployed before the running %s", ErrNoRollback, running.Lock.Tag)
	}
	return nil, fmt.Errorf("%w: no release was deployed", ErrNoRollback)
}

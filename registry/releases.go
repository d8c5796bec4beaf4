package registry

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/stack-deploy/stack/progress"
)

// Release is one lock of an environment with what befell it: its deploys
// and verifications, wherever they were recorded.
type Release struct {
	// ID is the lock's LockID.
	ID   string `json:"id"`
	Lock *Lock  `json:"lock"`
	// Path is its lock file in the checkout; "" when only the registry has it.
	Path string `json:"path,omitempty"`
	// Current: the environment's newest release. Running: the engine runs
	// its images (MarkRunning).
	Current bool `json:"current"`
	Running bool `json:"running"`
	// Deploys and Verifications are oldest first.
	Deploys       []Deploy       `json:"deploys,omitempty"`
	Verifications []Verification `json:"verifications,omitempty"`
	// RolledBack is the rollback that replaced it since it was last deployed.
	RolledBack *Deploy `json:"rolled_back,omitempty"`
}

// The states of a release (Status.State).
const (
	StateReleased = "released" // made, never deployed
	StatePromoted = "promoted" // promoted here, never deployed
	StateDeployed = "deployed" // deployed, not verified
	StateVerified = "verified" // its last verification passed
	StateFailed   = "failed"   // a check failed (until one passes), or its last deploy failed
)

// Status is what a release's history says of it.
type Status struct {
	Running    bool
	State      string
	RolledBack bool
	// Time and By are when and by whom State was reached; Detail why it
	// failed (the failing check, the deploy's error).
	Time   time.Time
	By     string
	Detail string
}

// String is "running,verified", "failed,rolled back", "released" ...
func (s Status) String() string {
	var parts []string
	if s.Running {
		parts = append(parts, "running")
	}
	parts = append(parts, s.State)
	if s.RolledBack {
		parts = append(parts, "rolled back")
	}
	return strings.Join(parts, ",")
}

// Status replays the release's deploys and verifications in time order. A
// failed check marks it failed until a check passes again; a failed deploy
// until it is deployed again; redeploying a verified release keeps it
// verified.
func (r *Release) Status() Status {
	s := Status{Running: r.Running, RolledBack: r.RolledBack != nil, State: StateReleased, Time: r.Lock.Created, By: r.Lock.CreatedBy}
	if r.Lock.PromotedFrom != nil {
		s.State = StatePromoted
	}
	type event struct {
		t   time.Time
		set func()
	}
	var events []event
	verified, checkFailed := false, false
	for _, d := range r.Deploys {
		events = append(events, event{d.Time, func() {
			switch {
			case d.Error != "":
				s.State, s.Detail = StateFailed, "deploy: "+d.Error
			case checkFailed || (verified && s.State == StateVerified):
				return // as it was, since then
			case verified:
				s.State, s.Detail = StateVerified, ""
			default:
				s.State, s.Detail = StateDeployed, ""
			}
			s.Time, s.By = d.Time, d.By
		}})
	}
	for _, v := range r.Verifications {
		events = append(events, event{v.Time, func() {
			s.Time, s.By = v.Time, v.By
			if v.Passed {
				verified, checkFailed = true, false
				s.State, s.Detail = StateVerified, ""
				return
			}
			verified, checkFailed = false, true
			s.State, s.Detail = StateFailed, "verify: no check ran"
			if f := v.Failed(); f != nil {
				s.Detail = "check " + f.Name + " failed"
			}
		}})
	}
	slices.SortStableFunc(events, func(a, b event) int { return a.t.Compare(b.t) })
	for _, e := range events {
		e.set()
	}
	return s
}

// LastVerification is the release's newest verification; nil when none.
func (r *Release) LastVerification() *Verification {
	var last *Verification
	for i := range r.Verifications {
		if last == nil || !r.Verifications[i].Time.Before(last.Time) {
			last = &r.Verifications[i]
		}
	}
	return last
}

// lastDeployed is when the release was last deployed successfully.
func (r *Release) lastDeployed() time.Time {
	var t time.Time
	for _, d := range r.Deploys {
		if d.Error == "" && d.Time.After(t) {
			t = d.Time
		}
	}
	return t
}

// remoteReadTimeout bounds reading the history from a registry.
const remoteReadTimeout = time.Minute

// Releases reads the environment's history, from the checkout and from the
// registry, newest first. When the registry cannot be read, it warns and
// returns what the checkout holds.
func (h *History) Releases(ctx context.Context) ([]*Release, error) {
	entries, err := h.Store.List(h.Env)
	if err != nil {
		return nil, err
	}
	deploys, err := readLines[Deploy](h.Store, h.Env, DeploysFile)
	if err != nil {
		return nil, err
	}
	verifications, err := readLines[Verification](h.Store, h.Env, VerificationsFile)
	if err != nil {
		return nil, err
	}
	var recs []Record
	if h.Remote != nil {
		// A registry that does not answer must not hold up a listing or a
		// rollback for long: the checkout's copy is there.
		rctx, cancel := context.WithTimeout(ctx, remoteReadTimeout)
		recs, err = h.Remote.List(rctx, h.Project, h.Env)
		cancel()
		if err != nil {
			progress.Report(ctx, "release:"+h.Env, "history", progress.Warning,
				fmt.Sprintf("showing only the history in this checkout: %v", err), nil)
		}
	}
	return Assemble(entries, recs, deploys, verifications), nil
}

// Assemble merges the lock files of a checkout (entries), the records of a
// registry (recs) and the checkout's deploy and verification logs into one
// history, newest release first; what both hold is counted once. The
// newest release is Current.
func Assemble(entries []Entry, recs []Record, deploys []Deploy, verifications []Verification) []*Release {
	byID := map[string]*Release{}
	byFile := map[string]string{} // lock file name -> ID, for old deploy lines
	add := func(l *Lock, path string) {
		id := LockID(l)
		r, ok := byID[id]
		if !ok {
			r = &Release{ID: id, Lock: l}
			byID[id] = r
		}
		if path != "" && r.Path == "" {
			r.Path = path
			byFile[filepath.Base(path)] = id
		}
	}
	for _, e := range entries {
		if e.Lock != nil {
			add(e.Lock, e.Path)
		}
	}
	for _, rec := range recs {
		switch rec.Kind {
		case RecordLock:
			add(rec.Lock, "")
		case RecordDeploy:
			deploys = append(deploys, *rec.Deploy)
		case RecordVerify:
			verifications = append(verifications, *rec.Verification)
		}
	}
	seen := map[string]bool{}
	once := func(key string) bool {
		if seen[key] {
			return false
		}
		seen[key] = true
		return true
	}
	for _, d := range deploys {
		if d.Release == "" {
			d.Release = byFile[d.Lock]
		}
		key := "d " + d.ID
		if d.ID == "" {
			key = fmt.Sprintf("d %s %s %s", d.Release, d.Time, d.Error)
		}
		if r := byID[d.Release]; r != nil && once(key) {
			r.Deploys = append(r.Deploys, d)
		}
	}
	for _, v := range verifications {
		if r := byID[v.Release]; r != nil && once("v "+v.ID) {
			r.Verifications = append(r.Verifications, v)
		}
	}
	out := make([]*Release, 0, len(byID))
	for _, r := range byID {
		slices.SortStableFunc(r.Deploys, func(a, b Deploy) int { return a.Time.Compare(b.Time) })
		slices.SortStableFunc(r.Verifications, func(a, b Verification) int { return a.Time.Compare(b.Time) })
		out = append(out, r)
	}
	for _, r := range out {
		for _, d := range r.Deploys {
			from := byID[d.RollbackFrom]
			if from != nil && d.Error == "" && !d.Time.Before(from.lastDeployed()) {
				d := d
				from.RolledBack = &d
			}
		}
	}
	slices.SortFunc(out, func(a, b *Release) int {
		if c := b.Lock.Created.Compare(a.Lock.Created); c != 0 {
			return c
		}
		if c := strings.Compare(b.Lock.Tag, a.Lock.Tag); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if len(out) > 0 {
		out[0].Current = true
	}
	return out
}

// MarkRunning marks the release the engine runs (running, from Deployed or
// a driver's RunningImages): of the releases whose images every running
// container runs, the one deployed last (several locks can pin the same
// images), else the newest. Nil running (the engine did not answer)
// marks none.
func MarkRunning(releases []*Release, running Running) *Release {
	var best *Release
	for _, r := range releases {
		r.Running = false
		if !running.RunsLock(r.Lock) {
			continue
		}
		if best == nil || r.lastDeployed().After(best.lastDeployed()) {
			best = r
		}
	}
	if best != nil {
		best.Running = true
	}
	return best
}

// Short is a digest's first 12 hex digits.
func Short(digest string) string { return short(digest) }

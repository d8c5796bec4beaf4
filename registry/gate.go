package registry

import (
	"fmt"
	"slices"
	"strings"
)

// CheckVerified says whether r may be promoted out of env, whose checks
// are named checks: nil when env has no checks, or when r's last
// verification ran every one of them and each passed. Otherwise the error
// (ErrNotVerified) names the check that failed, or the first one missing.
func CheckVerified(r *Release, env string, checks []string) error {
	if len(checks) == 0 {
		return nil
	}
	v := r.LastVerification()
	if v == nil {
		return fmt.Errorf("%w: release %s was never verified on %s: check %q has not run; run stack verify --env %s where it runs",
			ErrNotVerified, r.Lock.Tag, env, checks[0], env)
	}
	when := fmt.Sprintf("%s by %s", v.Time.UTC().Format("2006-01-02 15:04:05Z"), v.By)
	if f := v.Failed(); f != nil {
		msg := fmt.Sprintf("release %s failed its verification on %s (%s): check %q failed", r.Lock.Tag, env, when, f.Name)
		if out := strings.TrimSpace(f.Output); out != "" {
			msg += ": " + out
		}
		return fmt.Errorf("%w: %s", ErrNotVerified, msg)
	}
	for _, c := range checks {
		if !slices.ContainsFunc(v.Checks, func(cr CheckResult) bool { return cr.Name == c && cr.Passed }) {
			return fmt.Errorf("%w: release %s was verified on %s (%s) without check %q, added since; run stack verify --env %s",
				ErrNotVerified, r.Lock.Tag, env, when, c, env)
		}
	}
	return nil
}

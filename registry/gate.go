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
		return fmt.Errorf("release %s is %w on %s: check %q has not run; run stack verify --env %s where it runs",
			r.Lock.Tag, ErrNotVerified, env, checks[0], env)
	}
	when := fmt.Sprintf("%s by %s", v.Time.UTC().Format("2006-01-02 15:04:05Z"), v.By)
	if f := v.Failed(); f != nil {
		out := ""
		if o := strings.TrimSpace(f.Output); o != "" {
			out = ": " + o
		}
		return fmt.Errorf("release %s is %w on %s: check %q failed (%s)%s", r.Lock.Tag, ErrNotVerified, env, f.Name, when, out)
	}
	for _, c := range checks {
		if !slices.ContainsFunc(v.Checks, func(cr CheckResult) bool { return cr.Name == c && cr.Passed }) {
			return fmt.Errorf("release %s is %w on %s: check %q is missing from its verification (%s); run stack verify --env %s",
				r.Lock.Tag, ErrNotVerified, env, c, when, env)
		}
	}
	return nil
}

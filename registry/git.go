package registry

import (
	"context"
	"os/exec"
	"strings"
)

// gitCommit returns the commit checked out in dir and whether the checkout
// has uncommitted changes; "" when dir is not in a git checkout or git is
// not installed: a lock records the commit when there is one.
func gitCommit(ctx context.Context, dir string) (commit string, dirty bool) {
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--verify", "HEAD").Output()
	if err != nil {
		return "", false
	}
	commit = strings.TrimSpace(string(out))
	status, err := exec.CommandContext(ctx, "git", "-C", dir, "status", "--porcelain", "--untracked-files=no").Output()
	return commit, err == nil && len(strings.TrimSpace(string(status))) > 0
}

package watch

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/patternmatcher"

	"github.com/stack-deploy/stack/image"
	"github.com/stack-deploy/stack/manifest"
)

// ErrNoRules: no selected service has develop.watch.
var ErrNoRules = errors.New("nothing to watch")

// Rule is one develop.watch entry of a service.
type Rule struct {
	Service string
	Action  types.WatchAction
	// Path is the absolute local path watched; Target the container path
	// its files sync to.
	Path, Target string
	Exec         types.ServiceHook
	InitialSync  bool

	ignore  *patternmatcher.PatternMatcher // develop.watch ignore, relative to Path
	include *patternmatcher.PatternMatcher // include; nil: every file
	// context is the service's build context and its .dockerignore.
	context string
	docker  *patternmatcher.PatternMatcher
}

// Syncs reports whether the rule copies files into containers.
func (r Rule) Syncs() bool {
	switch r.Action {
	case types.WatchActionSync, types.WatchActionSyncRestart, types.WatchActionSyncExec:
		return true
	}
	return false
}

// Rules reads the develop.watch of services (every service when none) of p.
func Rules(p *manifest.Project, services []string) ([]Rule, error) {
	if len(services) == 0 {
		services = p.ServiceNames()
	}
	var out []Rule
	for _, name := range services {
		s, ok := p.Project.Services[name]
		if !ok {
			return nil, fmt.Errorf("no such service: %q", name)
		}
		if s.Develop == nil {
			continue
		}
		for i, t := range s.Develop.Watch {
			r, err := rule(p, s, t)
			if err != nil {
				return nil, fmt.Errorf("service %q: develop.watch[%d]: %w", name, i, err)
			}
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no service of %s has develop.watch (see https://docs.docker.com/compose/how-tos/file-watch/)", ErrNoRules, strings.Join(services, ", "))
	}
	return out, nil
}

func rule(p *manifest.Project, s types.ServiceConfig, t types.Trigger) (Rule, error) {
	r := Rule{Service: s.Name, Action: t.Action, Path: t.Path, Target: t.Target, Exec: t.Exec, InitialSync: t.InitialSync}
	if !filepath.IsAbs(r.Path) {
		r.Path = filepath.Join(p.Project.WorkingDir, r.Path)
	}
	switch t.Action {
	case types.WatchActionSync, types.WatchActionSyncRestart, types.WatchActionSyncExec:
		if t.Target == "" {
			return r, fmt.Errorf("action %s needs a target: the path in the container the files go to", t.Action)
		}
		if t.Action == types.WatchActionSyncExec && len(t.Exec.Command) == 0 {
			return r, errors.New("action sync+exec needs exec.command")
		}
	case types.WatchActionRebuild:
		if s.Build == nil {
			return r, errors.New("action rebuild needs a build section: the service's image is not built here")
		}
	case types.WatchActionRestart:
	default:
		return r, fmt.Errorf("action %q: use sync, rebuild, restart, sync+restart or sync+exec", t.Action)
	}
	var err error
	if len(t.Ignore) > 0 {
		if r.ignore, err = patternmatcher.New(t.Ignore); err != nil {
			return r, fmt.Errorf("ignore: %w", err)
		}
	}
	if len(t.Include) > 0 {
		if r.include, err = patternmatcher.New(t.Include); err != nil {
			return r, fmt.Errorf("include: %w", err)
		}
	}
	if s.Build != nil {
		r.context = s.Build.Context
		if !filepath.IsAbs(r.context) {
			r.context = filepath.Join(p.Project.WorkingDir, r.context)
		}
		if r.docker, err = image.Dockerignore(r.context); err != nil {
			return r, err
		}
	}
	return r, nil
}

// Matches reports whether the change of local file f concerns r: under its
// path, included, and ignored neither by its ignore, the build context's
// .dockerignore, nor the files editors and git keep beside the sources.
func (r Rule) Matches(f string) bool {
	if !r.watches(f) {
		return false
	}
	if rel := r.rel(f); r.include != nil && rel != "." {
		if m, _ := r.include.MatchesOrParentMatches(rel); !m {
			return false
		}
	}
	return true
}

// rel is f relative to r's path, slash-separated; ".." when outside.
func (r Rule) rel(f string) string {
	rel, err := filepath.Rel(r.Path, f)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return ".."
	}
	return filepath.ToSlash(rel)
}

// watches reports whether f is under r's path and not ignored (include
// aside: a directory of included files need not match itself).
func (r Rule) watches(f string) bool {
	rel := r.rel(f)
	if rel == ".." || noise(f) {
		return false
	}
	if r.ignore != nil && rel != "." {
		if m, _ := r.ignore.MatchesOrParentMatches(rel); m {
			return false
		}
	}
	if r.docker != nil {
		if crel, err := filepath.Rel(r.context, f); err == nil && !strings.HasPrefix(crel, "..") {
			if m, _ := r.docker.MatchesOrParentMatches(filepath.ToSlash(crel)); m {
				return false
			}
		}
	}
	return true
}

// noise: editors' swap and backup files, and git's directory.
func noise(f string) bool {
	base := filepath.Base(f)
	switch {
	case strings.HasSuffix(base, ".swp"), strings.HasSuffix(base, ".swx"), strings.HasSuffix(base, "~"),
		strings.HasPrefix(base, ".#"), strings.HasPrefix(base, "#") && strings.HasSuffix(base, "#"), base == "4913":
		return true
	}
	return strings.Contains(filepath.ToSlash(f), "/.git/") || base == ".git"
}

// ContainerPath is where local file f goes in the container.
func (r Rule) ContainerPath(f string) string {
	rel, _ := filepath.Rel(r.Path, f)
	return path.Join(r.Target, filepath.ToSlash(rel))
}

// isDir reports whether p is a directory now.
func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

package image

import (
	"fmt"
	"path/filepath"

	"github.com/moby/patternmatcher"
)

// Dockerignore returns the matcher of dir's .dockerignore (nil when it has
// none), as builds apply it: for watch, which leaves out of a sync or a
// rebuild the files a build would leave out of the context.
func Dockerignore(dir string) (*patternmatcher.PatternMatcher, error) {
	excludes, err := readDockerignore(dir)
	if err != nil || len(excludes) == 0 {
		return nil, err
	}
	pm, err := patternmatcher.New(excludes)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", filepath.Join(dir, ".dockerignore"), err)
	}
	return pm, nil
}

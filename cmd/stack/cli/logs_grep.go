package cli

import (
	"fmt"
	"regexp"

	"github.com/stack-deploy/stack/engine"
)

// grepLines passes on to line only the lines whose text matches pattern (a
// Go regular expression; (?i) for any case); all of them when pattern is
// empty. Like --tail, it is applied after the engine reads the lines:
// --tail counts the lines before the filter.
func grepLines(pattern string, line func(engine.LogLine)) (func(engine.LogLine), error) {
	if pattern == "" {
		return line, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("--grep %q: %w", pattern, err)
	}
	return func(l engine.LogLine) {
		if re.MatchString(l.Text) {
			line(l)
		}
	}, nil
}

package manifest

import (
	interp "github.com/compose-spec/compose-go/v2/interpolation"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/tree"
	"github.com/compose-spec/compose-go/v2/types"
)

// composeCasts is compose-go's table of the values interpolation converts
// from strings, by path pattern (services.*.privileged: a boolean). For
// every string in the files, compose-go tries each of its sixty patterns,
// splitting both paths each time: the largest part of its loading time and
// of its allocations on a large manifest. A pattern can only match a path
// whose keys include its own, so castsFor hands compose-go the patterns whose
// keys the files have, which changes no value and leaves a handful.
var composeCasts = loader.ToOptions(&types.ConfigDetails{}, nil).Interpolate.TypeCastMapping

// castWords are the keys the patterns of composeCasts name ("privileged",
// "deploy", ...): rawChecker.walk notes which of them the files use.
var castWords = func() map[string]bool {
	words := map[string]bool{}
	for pattern := range composeCasts {
		for _, part := range pattern.Parts() {
			if part != tree.PathMatchAll && part != tree.PathMatchList {
				words[part] = true
			}
		}
	}
	return words
}()

// castsFor returns the patterns of composeCasts whose keys are all among
// keys; all of them when complete is false (a file compose-go reads was not
// scanned for keys).
func castsFor(keys map[string]bool, complete bool) map[tree.Path]interp.Cast {
	if !complete {
		return composeCasts
	}
	out := map[tree.Path]interp.Cast{}
patterns:
	for pattern, cast := range composeCasts {
		for _, part := range pattern.Parts() {
			if part != tree.PathMatchAll && part != tree.PathMatchList && !keys[part] {
				continue patterns
			}
		}
		out[pattern] = cast
	}
	return out
}

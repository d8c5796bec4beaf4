package enginetest

import (
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// UndecidedFields returns, sorted, the fields of a compose service (their
// YAML names, as compose-go's model has them) that are in none of decided:
// a driver's coverage test lists the fields it maps, warns about, or leaves
// to others, and fails on a field compose-go added that nobody decided
// about, so that none is dropped silently.
func UndecidedFields(decided ...[]string) []string {
	var missing []string
	for _, f := range yamlFields(reflect.TypeOf(types.ServiceConfig{})) {
		if f != "name" && !slices.ContainsFunc(decided, func(d []string) bool { return slices.Contains(d, f) }) {
			missing = append(missing, f)
		}
	}
	sort.Strings(missing)
	return missing
}

func yamlFields(typ reflect.Type) []string {
	var out []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case strings.Contains(f.Tag.Get("yaml"), ",inline") && tag == "" && f.Type.Kind() == reflect.Struct:
			out = append(out, yamlFields(f.Type)...)
		case tag != "" && tag != "-" && !strings.HasPrefix(tag, "#"):
			out = append(out, tag)
		}
	}
	return out
}

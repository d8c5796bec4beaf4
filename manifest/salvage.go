package manifest

import (
	"context"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v4"
)

// salvage looks for the problems of the model (dependencies, cycles, images,
// container names, x-stack keys) in files that have problems of their own
// (ports, volumes, interpolation), so that one run reports both: it loads the files as
// parsed, without the entries that do not parse and with templates whose
// variables are missing left as written, and runs the checker on the result;
// a problem on a line already reported is a consequence and left out. When
// even that does not load, the problems found so far are all there is to say.
func (c *rawChecker) salvage(ctx context.Context, po *cli.ProjectOptions, profiles []string, main string) {
	if c.broken || len(c.docs) == 0 {
		return
	}
	details := types.ConfigDetails{Environment: po.Environment}
	wd, err := po.GetWorkingDir()
	if err != nil {
		return
	}
	details.WorkingDir = wd
	for _, d := range c.docs {
		c.dropBad(d.root)
		var dict map[string]any
		if err := d.root.Decode(&dict); err != nil {
			return
		}
		details.ConfigFiles = append(details.ConfigFiles, types.ConfigFile{Filename: d.file, Config: dict})
	}
	if len(profiles) == 0 {
		for _, p := range strings.Split(po.Environment["COMPOSE_PROFILES"], ",") {
			profiles = append(profiles, strings.TrimSpace(p))
		}
	}
	p, err := loader.LoadWithContext(ctx, details, func(o *loader.Options) {
		o.SetProjectName("salvage", true)
		o.Profiles = profiles
		o.SkipConsistencyCheck = true
		o.SkipResolveEnvironment = true
		o.SkipResolveLabels = true
		lenient := *o.Interpolate
		lenient.Substitute = func(s string, m template.Mapping) (string, error) {
			v, err := template.Substitute(s, m)
			if err != nil {
				return s, nil //nolint:nilerr // already reported by checkScalar
			}
			return v, nil
		}
		o.Interpolate = &lenient
	})
	if err != nil {
		return
	}
	found := &problems{}
	(&checker{p: p, idx: c.idx, main: main, ps: found}).check()
	(&Project{Project: p, Services: map[string]ServiceExtension{}}).decodeExtensions(c.idx, main, found)
	reported := map[pos]bool{}
	for _, e := range c.ps.errs {
		reported[pos{e.File, e.Line}] = true
	}
	for _, e := range found.errs {
		if !reported[pos{e.File, e.Line}] {
			c.ps.add(e)
		}
	}
}

// dropBad removes the ports and volumes entries checkScalar could not parse.
func (c *rawChecker) dropBad(n *yaml.Node) {
	kept := n.Content[:0]
	for _, child := range n.Content {
		if c.bad[child] {
			continue
		}
		c.dropBad(child)
		kept = append(kept, child)
	}
	n.Content = kept
}

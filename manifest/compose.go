package manifest

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/consts"
	interp "github.com/compose-spec/compose-go/v2/interpolation"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/tree"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/compose-spec/compose-go/v2/utils"
	"github.com/sirupsen/logrus"
)

// compose is one load through compose-go's loader, of files Load has read and
// checked. It calls the loader's steps itself rather than
// cli.ProjectOptions.LoadProject, which would read every file again (and
// stdin without a bound), parse each twice more for the project's name, and
// leave no way to run compose-go's consistency check without its dependency
// cycle search (exponential: see consistent).
type compose struct {
	details  types.ConfigDetails
	name     string
	profiles []string
	casts    map[tree.Path]interp.Cast
}

// options are the loader's options for this load, as Docker Compose sets
// them (cmd/compose: toProjectOptions), with the project name decided and
// the environment and labels left unresolved: resolved reads the env and
// label files after checking them.
func (c *compose) options(consistency bool) func(*loader.Options) {
	return func(o *loader.Options) {
		o.SetProjectName(c.name, true)
		o.Profiles = c.profiles
		o.SkipConsistencyCheck = !consistency
		o.SkipResolveEnvironment = true
		o.SkipResolveLabels = true
		o.ConvertWindowsPaths = utils.StringToBool(c.details.Environment["COMPOSE_CONVERT_WINDOWS_PATHS"])
		// Load has measured every document against maxNodes already; the
		// loader's own default (100,000) refuses ordinary manifests of a few
		// thousand services.
		o.MaxNodeVisits = maxNodes
		in := *o.Interpolate
		in.TypeCastMapping = c.casts
		o.Interpolate = &in
	}
}

// consistent loads the model and runs compose-go's consistency check on it
// (undefined networks, volumes, secrets and configs, conflicting settings,
// ...) without its dependency part: compose-go searches dependency cycles by
// enumerating every path, exponential in a graph with shared dependencies (a
// 100-service chain takes 15 s, in Docker Compose too; 1,000 never finish),
// and checker.check does that part in linear time. depends_on is taken out of
// the model for the check and decoded on its own afterwards. When the check
// fails, the model comes back with its depends_on and without the check, and
// with the check's error, for checker.check to look at the dependencies
// first.
func (c *compose) consistent(ctx context.Context) (p *types.Project, inconsistent, err error) {
	dict, err := loader.LoadModelWithContext(ctx, c.details, c.options(true))
	if err != nil {
		return nil, nil, err
	}
	deps := map[string]any{}
	if services, ok := dict["services"].(map[string]any); ok {
		for name, s := range services {
			if s, ok := s.(map[string]any); ok && s["depends_on"] != nil {
				deps[name] = map[string]any{"depends_on": s["depends_on"]}
				delete(s, "depends_on")
			}
		}
	}
	p, inconsistent = loader.ModelToProject(dict, loader.ToOptions(&c.details, []func(*loader.Options){c.options(true)}), c.details)
	if inconsistent != nil {
		p, err = loader.LoadWithContext(ctx, c.details, c.options(false))
		return p, inconsistent, err
	}
	if len(deps) == 0 {
		return p, nil, nil
	}
	// The same decoding, on a model of nothing but the dependencies.
	dp, err := loader.ModelToProject(map[string]any{"services": deps}, loader.ToOptions(&c.details, []func(*loader.Options){c.options(false)}), c.details)
	if err != nil {
		return nil, nil, err
	}
	for name, d := range dp.Services {
		if s, ok := p.Services[name]; ok {
			s.DependsOn = d.DependsOn
			p.Services[name] = s
		} else if s, ok := p.DisabledServices[name]; ok {
			s.DependsOn = d.DependsOn
			p.DisabledServices[name] = s
		}
	}
	return p, nil, nil
}

// checkFiles checks the env_file and label_file entries of the enabled
// services (and of their pre_start hooks) before compose-go reads them.
func (c *checker) checkFiles() {
	for _, name := range c.declarationOrder() {
		s := c.p.Services[name]
		specs := []types.ContainerSpec{s.ContainerSpec}
		for _, h := range s.PreStart {
			specs = append(specs, h.ContainerSpec)
		}
		for _, spec := range specs {
			for _, f := range spec.EnvFiles {
				c.checkFile(name, "env_file", f.Path)
			}
			for _, f := range spec.LabelFiles {
				c.checkFile(name, "label_file", f)
			}
		}
	}
}

// resolved reads the env_file and label_file entries of the enabled
// services into their environment and labels, as compose-go would have
// during the load; checkFiles has checked them.
func resolved(p *types.Project, main string, idx index) (*types.Project, error) {
	p, err := p.WithServicesEnvironmentResolved(true)
	if err != nil {
		return nil, composeError(err, main, idx)
	}
	p, err = p.WithServicesLabelsResolved(false)
	if err != nil {
		return nil, composeError(err, main, idx)
	}
	return p, nil
}

// projectName decides the project's name: for an environment, the name it
// gives (made from the base name, which -p and COMPOSE_PROJECT_NAME set);
// else as Docker Compose does: -p, else COMPOSE_PROJECT_NAME, else the last
// `name:` of the compose files, interpolated and normalized, else the
// project directory's name, normalized.
func projectName(opts Options, env types.Mapping, wd string, docs []rawDoc) (string, error) {
	if opts.environmentName != "" {
		return opts.environmentName, nil
	}
	if opts.ProjectName != "" {
		return opts.ProjectName, nil // cli.WithName has checked it
	}
	if v := env[consts.ComposeProjectName]; v != "" {
		if loader.NormalizeProjectName(v) != v {
			return "", loader.InvalidProjectNameErr(v)
		}
		return v, nil
	}
	named, name := false, ""
	skip := ""
	for _, d := range docs {
		if d.file == skip {
			continue
		}
		var n struct {
			Name string `yaml:"name"`
		}
		err := d.root.Decode(&n)
		if d.first {
			if err != nil {
				return "", err
			}
			named = named || n.Name != ""
		}
		if err != nil {
			skip = d.file // compose-go gives up on the file's name there
			continue
		}
		if n.Name != "" {
			name = n.Name
		}
	}
	if name != "" {
		lookup := (&types.ConfigDetails{Environment: env}).LookupEnv
		v, err := interp.Interpolate(map[string]any{"name": name}, interp.Options{LookupValue: lookup})
		if err != nil {
			return "", err
		}
		if name = loader.NormalizeProjectName(v["name"].(string)); name != "" {
			return name, nil
		}
	}
	if named {
		return "", errors.New("project name must not be empty")
	}
	dirname := filepath.Base(wd)
	if symlink, err := filepath.EvalSymlinks(wd); err == nil && filepath.Base(symlink) != dirname {
		logrus.Warnf("project has been loaded without an explicit name from a symlink. Using name %q", dirname)
	}
	return loader.NormalizeProjectName(dirname), nil
}

// envFiles is a cli.ProjectOptionsFn checking the env files it is about to
// read (--env-file, the environment's env_file, else the project's .env):
// compose-go's dotenv reads whatever they name, a FIFO or /dev/zero too.
func envFiles(o *cli.ProjectOptions) error {
	for _, f := range o.EnvFiles {
		fi, err := os.Stat(f)
		if err != nil {
			continue // compose-go says it is missing
		}
		if err := checkRegular(fi); err != nil {
			return fileError(pos{}, "", "", f, err)
		}
	}
	return nil
}

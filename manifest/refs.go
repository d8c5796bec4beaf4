package manifest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/compose-spec/compose-go/v2/template"
	"go.yaml.in/yaml/v4"
)

// checkReferences checks the local files a compose file names for compose-go
// to read while it loads (include: files and their env_file, extends.file):
// each must be a regular file of at most MaxFileSize, and the YAML ones pass
// the same checks as the compose files themselves (syntax, limits), before
// compose-go reads a byte of them. Paths are resolved as compose-go does,
// against c.dir. A file that cannot be resolved here (a remote include, a
// path naming a variable only the include's env_file sets) is left to
// compose-go and marks the check incomplete (c.unscanned).
func (c *rawChecker) checkReferences(file string, root *yaml.Node) {
	if root.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		switch v := root.Content[i+1]; root.Content[i].Value {
		case "include":
			for _, entry := range v.Content {
				c.checkInclude(file, entry)
			}
		case "services":
			for j := 0; j+1 < len(v.Content); j += 2 {
				if ext := mapValue(v.Content[j+1], "extends"); ext != nil {
					if f := mapValue(ext, "file"); f != nil {
						c.checkYAMLFile(file, v.Content[j].Value, "extends.file", f, "")
					}
				}
			}
		}
	}
}

// checkInclude checks one include: entry, short (a path) or long (path:,
// project_directory:, env_file:).
func (c *rawChecker) checkInclude(file string, entry *yaml.Node) {
	var paths []*yaml.Node
	project, envFiles := "", []*yaml.Node(nil)
	switch entry.Kind {
	case yaml.ScalarNode:
		paths = []*yaml.Node{entry}
	case yaml.MappingNode:
		paths = scalars(mapValue(entry, "path"))
		envFiles = scalars(mapValue(entry, "env_file"))
		if pd := mapValue(entry, "project_directory"); pd != nil {
			project, _ = c.resolve(pd.Value)
		}
	default:
		return
	}
	if len(paths) == 0 {
		return
	}
	main, ok := c.resolve(paths[0].Value)
	if !ok {
		c.unscanned = true
		return
	}
	if project == "" {
		project = filepath.Dir(main)
	}
	for _, p := range paths {
		c.checkYAMLFile(file, "", "include", p, project)
	}
	for _, n := range envFiles {
		if n.Value == "/dev/null" {
			continue // compose-go skips it
		}
		if f, ok := c.resolve(n.Value); ok {
			c.checkEnvFile(file, n, "include.env_file", f, false)
		}
	}
	if len(envFiles) == 0 {
		c.checkEnvFile(file, entry, "include", filepath.Join(project, ".env"), true)
	}
}

// checkYAMLFile reads the compose file n names and checks it as an included
// one, relative paths in it resolved against dir (empty: its directory).
func (c *rawChecker) checkYAMLFile(file, service, field string, n *yaml.Node, dir string) {
	path, ok := c.resolve(n.Value)
	if !ok {
		c.unscanned = true
		return
	}
	if c.seen[path] {
		return
	}
	c.seen[path] = true
	b, err := readRegular(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			c.unscanned = true // compose-go says so, in its words
			return
		}
		c.broken = true
		c.ps.add(fileError(pos{file, n.Line}, service, field, path, err))
		return
	}
	if dir == "" {
		dir = filepath.Dir(path)
	}
	was, wasDir := c.included, c.dir
	c.included, c.dir = true, dir
	c.checkFile(path, b)
	c.included, c.dir = was, wasDir
}

// checkEnvFile checks an env file compose-go will read. A missing one is
// compose-go's to report; optional is the default .env, which compose-go
// reads only when it is there and not a directory.
func (c *rawChecker) checkEnvFile(file string, n *yaml.Node, field, path string, optional bool) {
	fi, err := os.Stat(path)
	if err != nil || optional && fi.IsDir() {
		return
	}
	if err := checkRegular(fi); err != nil {
		c.broken = true
		c.ps.add(fileError(pos{file, n.Line}, "", field, path, err))
	}
}

// resolve interpolates a path written in the file being checked and makes it
// absolute; false for a remote resource or a template that does not resolve
// here.
func (c *rawChecker) resolve(p string) (string, bool) {
	p, err := template.Substitute(p, c.lookup)
	if err != nil || p == "" || strings.Contains(p, "://") || strings.HasPrefix(p, "git@") {
		return "", false
	}
	if !filepath.IsAbs(p) {
		p = filepath.Join(c.dir, p)
	}
	return p, true
}

// mapValue returns the value of key in mapping n, or nil.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// scalars is n itself when it is a scalar, its scalar items when a sequence.
func scalars(n *yaml.Node) []*yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []*yaml.Node{n}
	}
	var out []*yaml.Node
	for _, item := range n.Content {
		if item.Kind == yaml.ScalarNode {
			out = append(out, item)
		}
	}
	return out
}

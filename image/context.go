package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// inlineDockerfile is the name under which a Dockerfile that is not a file
// inside the context (dockerfile_inline, or a path outside the context
// directory) travels in the context tar. As the docker CLI does, the name is
// appended to the tar's .dockerignore so the engine drops it from the
// context that COPY sees.
const inlineDockerfile = ".dockerfile.stack"

// contextSpec is one service's build context as the engine receives it.
type contextSpec struct {
	dir string
	// excludes are the .dockerignore patterns, with the exceptions the docker
	// CLI adds so that the Dockerfile and .dockerignore always travel.
	excludes []string
	pm       *patternmatcher.PatternMatcher
	// dockerfile is the Dockerfile's name inside the tar.
	dockerfile string
	// dockerfileContent is the Dockerfile's text.
	dockerfileContent []byte
	// dockerfilePath is the Dockerfile's absolute path, "" for
	// dockerfile_inline.
	dockerfilePath string
	// generated is true when dockerfileContent is added to the tar under
	// inlineDockerfile rather than read from the context directory.
	generated bool
}

// newContextSpec reads dir's .dockerignore and the Dockerfile: inline when
// inline is set, else dockerfile (relative to dir, or absolute; default
// "Dockerfile").
func newContextSpec(dir, dockerfile, inline string) (*contextSpec, error) {
	c := &contextSpec{dir: dir}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("reading build context: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("build context %s is not a directory", dir)
	}
	switch {
	case inline != "":
		c.dockerfile, c.dockerfileContent, c.generated = inlineDockerfile, []byte(inline), true
	default:
		if dockerfile == "" {
			dockerfile = "Dockerfile"
		}
		path := dockerfile
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading the Dockerfile: %w", err)
		}
		c.dockerfileContent, c.dockerfilePath = b, path
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			c.dockerfile, c.generated = inlineDockerfile, true
		} else {
			c.dockerfile = filepath.ToSlash(rel)
		}
	}
	if err := c.readExcludes(); err != nil {
		return nil, err
	}
	return c, nil
}

// newDirSpec is a directory sent as it is but for its .dockerignore: an
// additional build context.
func newDirSpec(dir string) (*contextSpec, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("reading build context: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("build context %s is not a directory", dir)
	}
	c := &contextSpec{dir: dir}
	return c, c.readExcludes()
}

func (c *contextSpec) readExcludes() error {
	excludes, err := readDockerignore(c.dir)
	if err != nil {
		return err
	}
	c.excludes = excludes
	if c.dockerfile != "" {
		c.excludes = trimBuildFilesFromExcludes(excludes, c.dockerfile, c.generated)
	}
	if c.pm, err = patternmatcher.New(c.excludes); err != nil {
		return fmt.Errorf("reading %s: %w", filepath.Join(c.dir, ".dockerignore"), err)
	}
	return nil
}

// dockerfileName says where a Dockerfile of the context goes in error
// messages: its path, or build.dockerfile_inline.
func (c *contextSpec) dockerfileName() string {
	if c.dockerfilePath == "" {
		return "build.dockerfile_inline"
	}
	return c.dockerfilePath
}

func readDockerignore(dir string) ([]string, error) {
	f, err := os.Open(filepath.Join(dir, ".dockerignore"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading .dockerignore: %w", err)
	}
	defer f.Close()
	excludes, err := ignorefile.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", f.Name(), err)
	}
	return excludes, nil
}

// trimBuildFilesFromExcludes is the docker CLI's rule (cli/command/image/build):
// the Dockerfile and .dockerignore are sent even when .dockerignore lists
// them; the engine removes them from the context itself.
func trimBuildFilesFromExcludes(excludes []string, dockerfile string, generated bool) []string {
	if keep, _ := patternmatcher.MatchesOrParentMatches(".dockerignore", excludes); keep {
		excludes = append(excludes, "!.dockerignore")
	}
	if keep, _ := patternmatcher.MatchesOrParentMatches(dockerfile, excludes); keep && !generated {
		excludes = append(excludes, "!"+dockerfile)
	}
	return excludes
}

// walk calls fn for every file, directory and symlink of the context that
// .dockerignore does not exclude, in lexical order, with its slash-separated
// path relative to the context. The skipping of excluded directories follows
// the engine's own tar code (moby/go-archive TarWithOptions): a directory is
// descended into only when an exception pattern (!...) may match below it.
func (c *contextSpec) walk(fn func(rel, abs string, fi fs.FileInfo) error) error {
	var (
		parentDirs []string
		parentInfo []patternmatcher.MatchInfo
	)
	return filepath.WalkDir(c.dir, func(abs string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading build context: %w", err)
		}
		rel, err := filepath.Rel(c.dir, abs)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		for len(parentDirs) != 0 && !strings.HasPrefix(rel, parentDirs[len(parentDirs)-1]+string(filepath.Separator)) {
			parentDirs, parentInfo = parentDirs[:len(parentDirs)-1], parentInfo[:len(parentInfo)-1]
		}
		var parent patternmatcher.MatchInfo
		if len(parentInfo) != 0 {
			parent = parentInfo[len(parentInfo)-1]
		}
		skip, info, err := c.pm.MatchesUsingParentResults(rel, parent)
		if err != nil {
			return fmt.Errorf("matching %s against .dockerignore: %w", rel, err)
		}
		if d.IsDir() {
			parentDirs, parentInfo = append(parentDirs, rel), append(parentInfo, info)
		}
		if skip {
			if !d.IsDir() || !c.mayIncludeBelow(rel) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			// An exception may re-include something below: descend, but
			// the directory itself is not an entry.
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return fmt.Errorf("reading build context: %w", err)
		}
		if !fi.Mode().IsRegular() && !fi.IsDir() && fi.Mode()&fs.ModeSymlink == 0 {
			return nil // sockets, devices, pipes: nothing a build can use
		}
		return fn(filepath.ToSlash(rel), abs, fi)
	})
}

func (c *contextSpec) mayIncludeBelow(rel string) bool {
	if !c.pm.Exclusions() {
		return false
	}
	dirSlash := rel + string(filepath.Separator)
	for _, pat := range c.pm.Patterns() {
		if pat.Exclusion() && strings.HasPrefix(pat.String()+string(filepath.Separator), dirSlash) {
			return true
		}
	}
	return false
}

// files lists the context's paths as walk sees them; tests use it.
func (c *contextSpec) files() ([]string, error) {
	var names []string
	err := c.walk(func(rel, _ string, _ fs.FileInfo) error {
		names = append(names, rel)
		return nil
	})
	sort.Strings(names)
	return names, err
}

// writeTar writes the context as the engine's build endpoint expects it:
// owned by root, as the docker CLI sends it.
func (c *contextSpec) writeTar(w io.Writer) error {
	tw := tar.NewWriter(w)
	var ignore []byte
	err := c.walk(func(rel, abs string, fi fs.FileInfo) error {
		var link string
		if fi.Mode()&fs.ModeSymlink != 0 {
			var err error
			if link, err = os.Readlink(abs); err != nil {
				return fmt.Errorf("reading build context: %w", err)
			}
		}
		hdr, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return fmt.Errorf("adding %s to the build context: %w", rel, err)
		}
		hdr.Name, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = rel, 0, 0, "", ""
		if fi.IsDir() {
			hdr.Name += "/"
		}
		if c.generated && rel == ".dockerignore" {
			// Written last, with the generated Dockerfile's name appended.
			b, err := os.ReadFile(abs)
			if err != nil {
				return fmt.Errorf("reading build context: %w", err)
			}
			ignore = b
			return nil
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(abs)
		if err != nil {
			return fmt.Errorf("reading build context: %w", err)
		}
		defer f.Close()
		if _, err := io.CopyN(tw, f, fi.Size()); err != nil {
			return fmt.Errorf("adding %s to the build context: %w", rel, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if c.generated {
		ignore = append(ignore, []byte("\n"+inlineDockerfile+"\n")...)
		for _, f := range []struct {
			name    string
			content []byte
		}{{".dockerignore", ignore}, {inlineDockerfile, c.dockerfileContent}} {
			if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.content)), Typeflag: tar.TypeReg}); err != nil {
				return err
			}
			if _, err := io.Copy(tw, bytes.NewReader(f.content)); err != nil {
				return err
			}
		}
	}
	return tw.Close()
}

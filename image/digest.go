package image

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"sort"
)

// InputsLabel is the image label holding the digest of a build's inputs. An
// image that carries the digest of the current inputs is not rebuilt.
const InputsLabel = "io.stack.build-inputs"

// inputsVersion changes whenever what the digest covers changes, so images
// labelled by an older stack are rebuilt once rather than wrongly kept.
const inputsVersion = "stack-build-inputs/v2"

// buildInputs is everything that decides what a build produces.
type buildInputs struct {
	context *contextSpec
	args    map[string]string // resolved build args
	// bases maps each FROM image reference to the ID the engine has for it
	// ("" when it has none yet), so a changed base image means a rebuild.
	bases      map[string]string
	target     string
	labels     map[string]string
	network    string
	extraHosts []string
	shmSize    int64
	tags       []string
	noCache    bool
	// noCacheFilter names the stages built without cache (no_cache_filter).
	noCacheFilter []string
	platforms     []string
	ulimits       []string
	cacheFrom     []string
	isolation     string
	// secrets and ssh are the IDs a build can mount: never the values,
	// which a label must not give away.
	secrets  []string
	ssh      []string
	contexts map[string]namedContext
}

// digest hashes the inputs: the context's files after .dockerignore (names,
// modes, contents, symlink targets; not times, so a touch without a change
// does not rebuild), the Dockerfile, and every build setting.
func (in buildInputs) digest() (string, error) {
	h := sha256.New()
	line := func(kind string, fields ...any) {
		fmt.Fprintf(h, "%s", kind)
		for _, f := range fields {
			fmt.Fprintf(h, " %q", fmt.Sprint(f))
		}
		fmt.Fprintln(h)
	}
	line(inputsVersion)
	if err := in.context.digestFiles(line); err != nil {
		return "", err
	}
	c := in.context
	line("dockerfile", c.dockerfile, c.generated, hex.EncodeToString(sum256(c.dockerfileContent)))
	sortedPairs(in.args, func(k, v string) { line("arg", k, v) })
	sortedPairs(in.bases, func(k, v string) { line("base", k, v) })
	sortedPairs(in.labels, func(k, v string) { line("label", k, v) })
	line("target", in.target)
	line("network", in.network)
	line("shm_size", in.shmSize)
	line("no_cache", in.noCache, in.noCacheFilter)
	line("platform", in.platforms)
	line("ulimits", in.ulimits)
	line("cache_from", in.cacheFrom)
	line("isolation", in.isolation)
	line("secrets", sortedCopy(in.secrets))
	line("ssh", sortedCopy(in.ssh))
	for _, s := range sortedCopy(in.extraHosts) {
		line("extra_host", s)
	}
	for _, s := range sortedCopy(in.tags) {
		line("tag", s)
	}
	for _, name := range slices.Sorted(maps.Keys(in.contexts)) {
		nc := in.contexts[name]
		line("context", name, nc.ref)
		if nc.dir != nil {
			if err := nc.dir.digestFiles(func(kind string, fields ...any) { line("context-"+kind, append([]any{name}, fields...)...) }); err != nil {
				return "", err
			}
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// digestFiles writes a line for each file of the context after
// .dockerignore: names, modes, contents, symlink targets; not times, so a
// touch without a change does not rebuild.
func (c *contextSpec) digestFiles(line func(kind string, fields ...any)) error {
	return c.walk(func(rel, abs string, fi fs.FileInfo) error {
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(abs)
			if err != nil {
				return fmt.Errorf("reading build context: %w", err)
			}
			line("symlink", rel, target)
		case fi.IsDir():
			line("dir", rel, fi.Mode().Perm())
		default:
			sum, err := fileSum(abs)
			if err != nil {
				return err
			}
			line("file", rel, fi.Mode(), sum)
		}
		return nil
	})
}

func fileSum(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("reading build context: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading build context: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func sum256(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

func sortedPairs(m map[string]string, fn func(k, v string)) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fn(k, m[k])
	}
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}

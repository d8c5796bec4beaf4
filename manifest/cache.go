package manifest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/consts"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/sirupsen/logrus"
)

// The model cache keeps the loaded, validated model of a project between
// runs, so that `stack plan` after `stack up` does not load the same files
// through compose-go again: most of what a run of stack costs on a large
// manifest. An entry is used only when every input of the load is what it
// was: the stack binary, the options, the working directory, the whole
// process environment and the one after .env and --env-file (so every
// variable interpolation could read), the compose files' contents, and the
// env_file and label_file entries the model names (contents, or absence).
// A project whose load reads files only compose-go knows of (include:,
// extends.file, remote files), during which compose-go warned, or whose
// model holds secret values is not kept.
//
// Each project and set of options has one entry, a file in the cache
// directory, replaced when its inputs change; entries not used for a month
// are removed when one is written.

// cacheVersion changes when the entry format does.
const cacheVersion = "stack model cache 1\n"

// cacheMaxAge is how long an entry that is not used is kept.
const cacheMaxAge = 30 * 24 * time.Hour

// modelCache is one project's entry.
type modelCache struct {
	path string   // the entry's file
	key  [32]byte // every input known before loading
}

// cachedEntry is what an entry holds, as codec.go encodes it.
type cachedEntry struct {
	Inputs  []cachedInput
	Project *types.Project
	Main    string
	Index   []cachedPos
}

// cachedInput is a file the load read besides the compose files, as it was.
type cachedInput struct {
	Path  string
	State string // "absent", "directory", or the sha256 of the contents
}

type cachedPos struct {
	Path, File string
	Line       int
}

// newModelCache finds the entry for this load in dir, keyed by every input
// known before loading.
func newModelCache(dir string, opts Options, po *cli.ProjectOptions, wd string, files []types.ConfigFile) *modelCache {
	slot := sha256.New()
	key := sha256.New()
	put := func(s ...string) {
		for _, v := range s {
			slot.Write([]byte(strconv.Itoa(len(v)) + ":" + v))
		}
	}
	cwd, _ := os.Getwd()
	put(cacheVersion, wd, cwd, opts.ProjectName, opts.ProjectDirectory, opts.environmentName)
	for _, list := range [][]string{opts.Files, opts.EnvFiles, opts.Profiles, po.ConfigPaths, po.EnvFiles} {
		put(strconv.Itoa(len(list)))
		put(list...)
	}
	key.Write(slot.Sum(nil))
	write := func(s ...string) {
		for _, v := range s {
			key.Write([]byte(strconv.Itoa(len(v)) + ":" + v))
		}
	}
	write(buildIdentity())
	for _, env := range [][]string{os.Environ(), opts.Env, mapping(po.Environment)} {
		env = slices.Clone(env)
		slices.Sort(env)
		write(strconv.Itoa(len(env)))
		write(env...)
	}
	for _, f := range files {
		sum := sha256.Sum256(f.Content)
		write(f.Filename, string(sum[:]))
	}
	c := &modelCache{path: filepath.Join(dir, hex.EncodeToString(slot.Sum(nil))[:32])}
	copy(c.key[:], key.Sum(nil))
	return c
}

// buildIdentity names the running binary: its build (module versions,
// compose-go's among them) and the executable file itself, so that a
// rebuilt stack, even of the same version, never reads an older one's
// entries.
func buildIdentity() string {
	id := "unknown build"
	if bi, ok := debug.ReadBuildInfo(); ok {
		id = bi.String()
	}
	if exe, err := os.Executable(); err == nil {
		if fi, err := os.Stat(exe); err == nil {
			id += exe + strconv.FormatInt(fi.Size(), 10) + fi.ModTime().String()
		}
	}
	return id
}

func mapping(m types.Mapping) []string {
	out := make([]string, 0, len(m))
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	return out
}

// get returns the cached model, or nil when there is none for these inputs.
// env is the project's environment, which the entry does not hold.
func (c *modelCache) get(env types.Mapping) *Project {
	b, err := os.ReadFile(c.path)
	if err != nil || len(b) < len(cacheVersion)+64 || string(b[:len(cacheVersion)]) != cacheVersion {
		return nil
	}
	b = b[len(cacheVersion):]
	key, sum, payload := b[:32], b[32:64], b[64:]
	if !bytes.Equal(key, c.key[:]) {
		return nil
	}
	if s := sha256.Sum256(payload); !bytes.Equal(sum, s[:]) {
		return nil
	}
	var e cachedEntry
	if _, err := decodeValue(payload, &e); err != nil {
		return nil
	}
	for _, in := range e.Inputs {
		if inputState(in.Path) != in.State {
			return nil
		}
	}
	now := time.Now()
	_ = os.Chtimes(c.path, now, now)                // in use: not to be removed as old
	env[consts.ComposeProjectName] = e.Project.Name // as compose-go's load sets it
	e.Project.Environment = env
	p := &Project{Project: e.Project, Services: map[string]ServiceExtension{}, main: e.Main, idx: index{}, cached: true}
	for _, ip := range e.Index {
		p.idx[ip.Path] = pos{ip.File, ip.Line}
	}
	return p
}

// put stores p, loaded from inputs (the files the load read besides the
// compose files). Nothing is stored when p holds what the cache must not
// keep; a failure to store is no failure of the load.
func (c *modelCache) put(p *Project, inputs []string) {
	for _, s := range p.Secrets {
		if s.Content != "" || s.Environment != "" {
			return // a secret's value: not to be written down
		}
	}
	for _, cf := range p.Configs {
		if cf.Environment != "" {
			return
		}
	}
	// The process environment is not part of what is stored: it holds
	// whatever secrets the shell has. get restores it (it is in the key).
	model := *p.Project
	model.Environment = nil
	e := cachedEntry{Project: &model, Main: p.main}
	for _, in := range inputs {
		e.Inputs = append(e.Inputs, cachedInput{Path: in, State: inputState(in)})
	}
	for path, at := range p.idx {
		e.Index = append(e.Index, cachedPos{path, at.file, at.line})
	}
	payload, err := encodeValue(nil, &e)
	if err != nil {
		return
	}
	sum := sha256.Sum256(payload)
	b := append(append(append([]byte(cacheVersion), c.key[:]...), sum[:]...), payload...)
	dir := filepath.Dir(c.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return
	}
	tmp, err := os.CreateTemp(dir, ".entry-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	cerr := tmp.Close()
	if werr != nil || cerr != nil || os.Rename(tmp.Name(), c.path) != nil {
		_ = os.Remove(tmp.Name())
		return
	}
	removeOld(dir)
}

// inputState is what the cache records of a file the load read.
func inputState(path string) string {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "absent"
	case err != nil:
		return "unreadable: " + err.Error()
	case fi.IsDir():
		return "directory"
	}
	b, err := readRegular(path)
	if err != nil {
		return "unreadable: " + err.Error()
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// removeOld removes the entries of dir not used for cacheMaxAge, and the
// temporary files of runs stopped while writing one.
func removeOld(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, de := range entries {
		fi, err := de.Info()
		if err != nil {
			continue
		}
		age := time.Since(fi.ModTime())
		if age > cacheMaxAge || strings.HasPrefix(de.Name(), ".") && age > time.Hour {
			_ = os.Remove(filepath.Join(dir, de.Name()))
		}
	}
}

// warnings counts what compose-go logs at warning level and above, for a
// load that warned not to be cached: the warning would not be seen again.
var warnings atomic.Int64

func init() { logrus.AddHook(warningCounter{}) }

type warningCounter struct{}

func (warningCounter) Levels() []logrus.Level {
	return []logrus.Level{logrus.PanicLevel, logrus.FatalLevel, logrus.ErrorLevel, logrus.WarnLevel}
}

func (warningCounter) Fire(*logrus.Entry) error {
	warnings.Add(1)
	return nil
}

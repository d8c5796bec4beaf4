package manifest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"maps"
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
// was: the stack binary, the options, the working directory, the compose
// files' contents, the env_file and label_file entries the model names
// (contents, or absence), and every variable the load could read: those
// compose-go reads by name (COMPOSE_*, HOME) and every other one whose name
// is a word of those files, since interpolation (${X}), `environment: [X]`
// and env files only read variables they name. A variable no input names
// (the shell's $_, OLDPWD) cannot change the model, and changing it keeps
// the entry. A project whose load reads files only compose-go knows of
// (include:, extends.file, remote files), during which compose-go warned,
// or whose model holds secret values is not kept.
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
	path  string   // the entry's file
	key   [32]byte // every input known before loading but the variables
	env   types.Mapping
	named map[string]bool // the words of the inputs: the variables they can name
	// inputs are the files the load read besides the compose files.
	inputs []cachedInput
}

// cachedEntry is what an entry holds, as codec.go encodes it.
type cachedEntry struct {
	Inputs []cachedInput
	// Vars are the variables the inputs name, and VarsSum what they were.
	Vars    []string
	VarsSum [32]byte
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
	// What compose-go reads by name, from the process (COMPOSE_DISABLE_ENV_FILE)
	// or the project environment (COMPOSE_PROFILES, ...).
	for _, env := range [][]string{os.Environ(), mapping(po.Environment)} {
		var read []string
		for _, kv := range env {
			if strings.HasPrefix(kv, "COMPOSE_") || strings.HasPrefix(kv, "HOME=") {
				read = append(read, kv)
			}
		}
		slices.Sort(read)
		write(strconv.Itoa(len(read)))
		write(read...)
	}
	c := &modelCache{path: filepath.Join(dir, hex.EncodeToString(slot.Sum(nil))[:32]), env: maps.Clone(po.Environment), named: map[string]bool{}}
	for _, f := range files {
		sum := sha256.Sum256(f.Content)
		write(f.Filename, string(sum[:]))
		words(f.Content, c.named)
	}
	copy(c.key[:], key.Sum(nil))
	return c
}

// varsSum is what the variables named were in env: set or not, and to what.
func varsSum(names []string, env types.Mapping) [32]byte {
	h := sha256.New()
	for _, name := range names {
		v, set := env[name]
		h.Write([]byte(strconv.Itoa(len(name)) + ":" + name + strconv.FormatBool(set) + strconv.Itoa(len(v)) + ":" + v))
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

// words adds to set every word of b that could name a variable.
func words(b []byte, set map[string]bool) {
	start := -1
	for i := 0; i <= len(b); i++ {
		word := i < len(b) && (b[i] == '_' || 'a' <= b[i] && b[i] <= 'z' || 'A' <= b[i] && b[i] <= 'Z' || start >= 0 && '0' <= b[i] && b[i] <= '9')
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			set[string(b[start:i])] = true
			start = -1
		}
	}
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
		if state, _ := inputState(in.Path); state != in.State {
			return nil
		}
	}
	if varsSum(e.Vars, env) != e.VarsSum {
		return nil
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

// record notes what the files the load is about to read besides the
// compose files are: recorded before they are read, a file that changes
// meanwhile fails the check of the next run instead of passing it.
func (c *modelCache) record(paths []string) {
	for _, path := range paths {
		state, b := inputState(path)
		c.inputs = append(c.inputs, cachedInput{Path: path, State: state})
		words(b, c.named)
	}
}

// put stores p. Nothing is stored when p holds what the cache must not
// keep; a failure to store is no failure of the load.
func (c *modelCache) put(p *Project) {
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
	// whatever secrets the shell has. get restores it.
	model := *p.Project
	model.Environment = nil
	e := cachedEntry{Project: &model, Main: p.main, Inputs: c.inputs}
	e.Vars = slices.Sorted(maps.Keys(c.named))
	e.VarsSum = varsSum(e.Vars, c.env)
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

// inputState is what the cache records of a file the load reads, and its
// contents.
func inputState(path string) (string, []byte) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "absent", nil
	case err != nil:
		return "unreadable: " + err.Error(), nil
	case fi.IsDir():
		return "directory", nil
	}
	b, err := readRegular(path)
	if err != nil {
		return "unreadable: " + err.Error(), nil
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), b
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

package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stack-deploy/stack/manifest"
)

// The two kinds of file a service can be given from the top level of a
// compose file.
const (
	SecretFile = "secret"
	ConfigFile = "config"
)

// ErrFileSource: a secret or config of a service cannot be given to it as
// the manifest says (undefined, an environment variable that is not set, a
// file that is not a regular file).
var ErrFileSource = errors.New("secret or config unavailable")

// SourceError says why a secret or config of a service does not resolve;
// it wraps ErrFileSource.
type SourceError struct {
	Service, Kind, Key string
	// Field is the definition's field at fault, "" when it is undefined.
	Field   string
	Problem string
}

func (e *SourceError) Error() string {
	return fmt.Sprintf("service %q: %s %q: %s", e.Service, e.Kind, e.Key, e.Problem)
}

// Unwrap returns ErrFileSource.
func (e *SourceError) Unwrap() error { return ErrFileSource }

// FileSource is one secret or config a service uses, as a single engine
// gives it (Docker Compose's way without Swarm): a file source is
// bind-mounted read-only at Target; an environment or content source is
// written to Target in the container before it starts.
type FileSource struct {
	Kind string // SecretFile or ConfigFile
	// Key is its key under the top-level secrets: or configs:.
	Key string
	// Target is the absolute path in the container: a secret's under
	// /run/secrets unless absolute, a config's under / .
	Target string
	// File is the host path of a file source; empty otherwise.
	File string
	// Content is an environment or content source's value.
	Content Sensitive
	// UID, GID and Mode are the long syntax's, nil or empty when not given.
	UID, GID string
	Mode     *types.FileMode
	// Ref is the service's reference, Def the top-level definition without
	// its value.
	Ref types.FileReferenceConfig
	Def types.FileObjectConfig
}

// Sensitive is the value of a secret or config: it is never printed or
// marshalled (String, GoString and MarshalJSON redact it).
type Sensitive string

// String redacts the value.
func (Sensitive) String() string { return "[redacted]" }

// GoString redacts the value.
func (Sensitive) GoString() string { return "[redacted]" }

// MarshalJSON redacts the value.
func (Sensitive) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

// Copied reports whether the engine writes the source into the container
// (an environment or content source) rather than mounting it.
func (f FileSource) Copied() bool { return f.File == "" }

// FileSources resolves the secrets and configs s uses, secrets first, in
// the order s lists them. It reads no file.
func FileSources(p *types.Project, s types.ServiceConfig) ([]FileSource, error) {
	var out []FileSource
	for _, r := range s.Secrets {
		def, ok := p.Secrets[r.Source]
		if !ok {
			return nil, &SourceError{Service: s.Name, Kind: SecretFile, Key: r.Source, Problem: "not defined under the top-level secrets:"}
		}
		f, err := fileSource(p, s.Name, SecretFile, types.FileReferenceConfig(r), types.FileObjectConfig(def), "/run/secrets")
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	for _, r := range s.Configs {
		def, ok := p.Configs[r.Source]
		if !ok {
			return nil, &SourceError{Service: s.Name, Kind: ConfigFile, Key: r.Source, Problem: "not defined under the top-level configs:"}
		}
		f, err := fileSource(p, s.Name, ConfigFile, types.FileReferenceConfig(r), types.FileObjectConfig(def), "/")
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func fileSource(p *types.Project, service, kind string, ref types.FileReferenceConfig, def types.FileObjectConfig, dir string) (FileSource, error) {
	f := FileSource{Kind: kind, Key: ref.Source, UID: ref.UID, GID: ref.GID, Mode: ref.Mode, Ref: ref, Def: def}
	f.Def.Content = "" // the loader resolves an environment source into it: Content holds it, redacted
	switch {
	case ref.Target == "":
		f.Target = path.Join(dir, ref.Source)
	case path.IsAbs(ref.Target):
		f.Target = path.Clean(ref.Target)
	default:
		f.Target = path.Join(dir, ref.Target)
	}
	switch {
	case def.Environment != "":
		v, ok := p.Environment[def.Environment]
		if !ok {
			return f, &SourceError{Service: service, Kind: kind, Key: ref.Source, Field: "environment",
				Problem: fmt.Sprintf("environment variable %s is not set", def.Environment)}
		}
		f.Content = Sensitive(v)
	case def.Content != "":
		f.Content = Sensitive(def.Content)
	default:
		f.File = def.File
	}
	return f, nil
}

// digest hashes what f gives the container, so a changed value changes the
// config hash without the hash carrying it: the value (a file source's
// contents, read from a regular file only) under a prefix naming the
// source, so equal values of two sources hash apart.
func (f FileSource) digest() (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "stack %s %s\x00", f.Kind, f.Key)
	if !f.Copied() {
		if err := hashFile(h, f.File); err != nil {
			return "", fmt.Errorf("%s %q: %w", f.Kind, f.Key, err)
		}
	} else {
		io.WriteString(h, string(f.Content))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashFile writes the contents of the regular file name to h.
func hashFile(h io.Writer, name string) error {
	if err := manifest.CheckRegularFile(name); err != nil {
		return fmt.Errorf("%w: %w", ErrFileSource, err)
	}
	fh, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrFileSource, err)
	}
	defer fh.Close()
	if _, err := io.Copy(h, fh); err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	return nil
}

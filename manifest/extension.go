package manifest

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v4"
)

// ExtensionKey is the key of stack's compose extension, at the top level and
// on each service.
const ExtensionKey = "x-stack"

// Extension is the top-level x-stack block. Unknown keys are errors.
type Extension struct {
	// Inject sets the default address-injection rules for every service.
	Inject *Inject `yaml:"inject,omitempty" json:"inject,omitempty"`
	// Environments are the named deploy targets (staging, prod, ...).
	Environments map[string]Environment `yaml:"environments,omitempty" json:"environments,omitempty"`
	// Gateway is the project's HTTP entry point; nil: none.
	Gateway *Gateway `yaml:"gateway,omitempty" json:"gateway,omitempty"`
	// Kubernetes sets what a cluster needs beyond compose (kubernetes.go).
	Kubernetes *Kubernetes `yaml:"kubernetes,omitempty" json:"kubernetes,omitempty"`
	// Release is the release phase of every environment (release.go).
	Release *ReleasePhase `yaml:"release,omitempty" json:"release,omitempty"`
}

// ServiceExtension is the x-stack block of one service. Unknown keys are errors.
type ServiceExtension struct {
	// Inject overrides the top-level injection rules for this service.
	Inject *Inject `yaml:"inject,omitempty" json:"inject,omitempty"`
	// Route sends the gateway's requests that match to this service.
	Route Routes `yaml:"route,omitempty" json:"route,omitempty"`
	// Kubernetes sets what a cluster needs of this service beyond compose.
	Kubernetes *ServiceKubernetes `yaml:"kubernetes,omitempty" json:"kubernetes,omitempty"`
}

// decodeExtensions decodes the x-stack blocks strictly, adding a problem
// located at the offending key for each one that does not decode.
func (p *Project) decodeExtensions(idx index, main string, ps *problems) {
	if raw, ok := p.Extensions[ExtensionKey]; ok {
		if err := decodeStrict(raw, &p.Stack); err != nil {
			ps.add(extensionError(err, idx, main, "", ExtensionKey))
		}
	}
	for name, svc := range p.Project.Services {
		raw, ok := svc.Extensions[ExtensionKey]
		if !ok {
			continue
		}
		var ext ServiceExtension
		if err := decodeStrict(raw, &ext); err != nil {
			ps.add(extensionError(err, idx, main, name, "services."+name+"."+ExtensionKey))
			continue
		}
		p.Services[name] = ext
	}
}

var unknownField = regexp.MustCompile(`field (\S+) not found in type`)

// extensionError names the unknown key and finds its line in the files: the
// decoder's own line numbers refer to compose-go's re-encoded model.
func extensionError(err error, idx index, main, service, path string) *Error {
	at, ok := idx[path]
	if !ok {
		at = pos{file: main}
	}
	e := &Error{File: at.file, Line: at.line, Service: service, Field: ExtensionKey}
	m := unknownField.FindStringSubmatch(err.Error())
	if m == nil {
		e.Problem = err.Error()
		e.Fix = "see the x-stack section of the README for the expected shape"
		e.Err = fmt.Errorf("%w: %w", ErrInvalid, err)
		return e
	}
	key := m[1]
	e.Field = ExtensionKey + "." + key
	for p, kp := range idx {
		if strings.HasPrefix(p, path+".") && strings.HasSuffix(p, "."+key) {
			e.Field = strings.TrimPrefix(p, "services."+service+".")
			e.File, e.Line = kp.file, kp.line
			break
		}
	}
	e.Problem = fmt.Sprintf("unknown key %q", key)
	e.Fix = "check its spelling against the x-stack keys in the README, or remove it"
	e.Err = ErrUnknownExtensionKey
	return e
}

// decodeStrict decodes a generic YAML value into out, refusing unknown keys:
// a misspelt setting must not be silently ignored.
func decodeStrict(raw any, out any) error {
	b, err := yaml.Marshal(raw)
	if err != nil {
		return err
	}
	return decodeKnown(b, out)
}

// decodeKnown decodes YAML into out, refusing unknown keys.
func decodeKnown(b []byte, out any) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	return dec.Decode(out)
}

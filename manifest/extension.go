package manifest

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"
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
}

// ServiceExtension is the x-stack block of one service. Unknown keys are errors.
type ServiceExtension struct {
	// Inject overrides the top-level injection rules for this service.
	Inject *Inject `yaml:"inject,omitempty" json:"inject,omitempty"`
}

func (p *Project) decodeExtensions() error {
	if raw, ok := p.Extensions[ExtensionKey]; ok {
		if err := decodeStrict(raw, &p.Stack); err != nil {
			return fmt.Errorf("%s: top-level %s: %w", p.fileList(), ExtensionKey, err)
		}
	}
	for name, svc := range p.Project.Services {
		raw, ok := svc.Extensions[ExtensionKey]
		if !ok {
			continue
		}
		var ext ServiceExtension
		if err := decodeStrict(raw, &ext); err != nil {
			return fmt.Errorf("%s: service %q: %s: %w", p.fileList(), name, ExtensionKey, err)
		}
		p.Services[name] = ext
	}
	return nil
}

// decodeStrict decodes a generic YAML value into out, refusing unknown keys:
// a misspelt setting must not be silently ignored.
func decodeStrict(raw any, out any) error {
	b, err := yaml.Marshal(raw)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil {
		return err
	}
	return nil
}

func (p *Project) fileList() string {
	if len(p.ComposeFiles) == 1 {
		return p.ComposeFiles[0]
	}
	return fmt.Sprint(p.ComposeFiles)
}

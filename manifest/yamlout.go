package manifest

import (
	"bytes"
	"maps"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v4"
)

// marshalYAML is compose-go's Project.MarshalYAML, byte for byte, in pieces.
// yaml v4's emitter keeps every event of a document until the document ends
// (it only ever appends to its queue), so one document of 1,000 services
// holds 60 MB and reallocates its queue over and over: the largest part of
// `stack config`'s memory and a third of its time. So the services,
// networks and volumes are each encoded on their own, nested in their
// section as in the whole document (the same columns, so the same
// quoting and line folding), and spliced, in the encoder's order, into the
// rest of the project encoded with a placeholder in their place. Should the
// output ever not have the shape this relies on, the whole project is
// encoded at once.
func marshalYAML(p *types.Project) ([]byte, error) {
	if len(p.Services)+len(p.Networks)+len(p.Volumes) < 64 {
		return p.MarshalYAML() // small: one document costs nothing
	}
	b, ok, err := marshalInPieces(p)
	if err != nil || ok {
		return b, err
	}
	return p.MarshalYAML()
}

// marshalInPieces is marshalYAML's work; false when the output does not have
// the expected shape.
func marshalInPieces(p *types.Project) ([]byte, bool, error) {
	skeleton := *p
	var sections []section
	if len(p.Services) > 0 {
		skeleton.Services = types.Services{placeholder: {}}
		sections = append(sections, sectionOf("services", p.Services))
	}
	if len(p.Networks) > 0 {
		skeleton.Networks = types.Networks{placeholder: {}}
		sections = append(sections, sectionOf("networks", p.Networks))
	}
	if len(p.Volumes) > 0 {
		skeleton.Volumes = types.Volumes{placeholder: {}}
		sections = append(sections, sectionOf("volumes", p.Volumes))
	}
	out, err := skeleton.MarshalYAML()
	if err != nil {
		return nil, false, err
	}
	for _, s := range sections {
		body, ok, err := s.render()
		if err != nil || !ok {
			return nil, false, err
		}
		if out, ok = splice(out, s.key, body); !ok {
			return nil, false, nil
		}
	}
	return out, true, nil
}

// placeholder stands for a section's entries in the skeleton.
const placeholder = "stack-render-placeholder"

// section is one top-level section to encode an entry at a time.
type section struct {
	key    string
	render func() (body []byte, ok bool, err error)
}

func sectionOf[V any](key string, m map[string]V) section {
	return section{key: key, render: func() ([]byte, bool, error) {
		order, ok, err := encoderOrder(m)
		if err != nil || !ok {
			return nil, ok, err
		}
		var body bytes.Buffer
		head := key + ":\n"
		for _, name := range order {
			b, err := encodeYAML(map[string]map[string]V{key: {name: m[name]}})
			if err != nil {
				return nil, false, err
			}
			if !bytes.HasPrefix(b, []byte(head)) {
				return nil, false, nil
			}
			body.Write(b[len(head):])
		}
		return body.Bytes(), true, nil
	}}
}

// encoderOrder lists m's keys in the order the encoder writes them (its own
// natural order, numbers in keys compared as numbers), learnt from the
// encoder itself: each key is encoded with its index as value.
func encoderOrder[V any](m map[string]V) ([]string, bool, error) {
	names := make([]string, 0, len(m))
	index := make(map[string]int, len(m))
	for name := range maps.Keys(m) {
		index[name] = len(names)
		names = append(names, name)
	}
	b, err := encodeYAML(index)
	if err != nil {
		return nil, false, err
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != len(names) {
		return nil, false, nil
	}
	order := make([]string, 0, len(names))
	for _, line := range lines {
		i, err := strconv.Atoi(line[strings.LastIndex(line, ": ")+2:])
		if err != nil || i < 0 || i >= len(names) {
			return nil, false, nil
		}
		order = append(order, names[i])
	}
	return order, true, nil
}

// splice replaces the placeholder entry of section key in out with body.
func splice(out []byte, key string, body []byte) ([]byte, bool) {
	head := []byte(key + ":\n  " + placeholder + ":")
	start := bytes.Index(out, append([]byte("\n"), head...)) + 1
	if start == 0 && !bytes.HasPrefix(out, head) {
		return out, false
	}
	start += len(key) + 2 // the entries begin after "key:\n"
	// The placeholder entry ends where the next top-level key begins.
	rest, end := out[start:], len(out)
	for off := 0; ; {
		nl := bytes.IndexByte(rest[off:], '\n')
		if nl < 0 {
			break
		}
		off += nl + 1
		if off < len(rest) && rest[off] != ' ' {
			end = start + off
			break
		}
	}
	spliced := make([]byte, 0, len(out)+len(body))
	spliced = append(append(append(spliced, out[:start]...), body...), out[end:]...)
	return spliced, true
}

// encodeYAML encodes v as compose-go's Project.MarshalYAML does.
func encodeYAML(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

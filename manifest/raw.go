package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/format"
	"github.com/compose-spec/compose-go/v2/template"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v4"
)

// pos is where a key or value is written: file and 1-based line.
type pos struct {
	file string
	line int
}

// index maps a dotted path of the compose model ("services.web.ports[1]")
// to where it is written. Files are indexed in merge order, so a later file
// wins as it does when compose-go merges overrides. A scalar item of a list
// is also indexed as "path=value" ("services.web.depends_on=api"), to locate
// list entries by content after compose-go has reordered or merged them.
type index map[string]pos

// rawChecker reads each compose file as written, before compose-go loads it,
// to find the problems compose-go reports only one at a time (YAML syntax,
// interpolation, port and volume syntax), and records where every key is so
// later errors can name file and line.
type rawChecker struct {
	lookup template.Mapping
	idx    index
	ps     *problems

	// docs are the parsed documents of each file, and bad the ports and
	// volumes entries that do not parse: without them the files can still
	// be loaded to look for the problems of the model (see salvage.go).
	docs   []rawDoc
	bad    map[*yaml.Node]bool
	broken bool // a file is not YAML: nothing more can be learnt

	// included is set while an `include`d or `extends`ed file is checked:
	// its keys do not replace those of the files that include it, and its
	// ${...} are left to compose-go, as an include may bring its own
	// env_file. dir is what relative paths in the file being checked are
	// relative to, as compose-go resolves them; seen, the files checked.
	included bool
	dir      string
	seen     map[string]bool

	// keys records which of the words in castWords are keys somewhere in
	// the files, for interpolation (see casts.go); unscanned is set when a
	// file compose-go will read could not be checked here.
	keys      map[string]bool
	unscanned bool
}

func newRawChecker(lookup template.Mapping, dir string, ps *problems) *rawChecker {
	return &rawChecker{
		lookup: lookup, idx: index{}, ps: ps, bad: map[*yaml.Node]bool{},
		dir: dir, seen: map[string]bool{}, keys: map[string]bool{},
	}
}

type rawDoc struct {
	file  string
	root  *yaml.Node
	first bool // the file's first document
}

// checkFile parses one compose file and checks every value in it, and the
// files it names.
func (c *rawChecker) checkFile(file string, content []byte) {
	dec := yaml.NewDecoder(bytes.NewReader(content))
	for first := true; ; first = false {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			c.broken = true
			line, msg := yamlError(err, content)
			c.ps.add(&Error{
				File: file, Line: line,
				Problem: msg,
				Fix:     "fix the YAML syntax at that line (indentation, a missing ':' or an unclosed quote)",
				Err:     fmt.Errorf("%w: %w", ErrSyntax, err),
			})
			return
		}
		if e := checkBudget(file, &doc); e != nil {
			c.broken = true
			c.ps.add(e)
			return
		}
		if len(doc.Content) == 1 {
			c.walk(file, doc.Content[0], "")
			if !c.included {
				c.docs = append(c.docs, rawDoc{file, doc.Content[0], first})
			}
			c.checkReferences(file, doc.Content[0])
		}
	}
}

func (c *rawChecker) walk(file string, n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.MappingNode:
		seen := make(map[string]int, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			child := k.Value
			if path != "" {
				child = path + "." + k.Value
			}
			if first, dup := seen[k.Value]; dup && k.Value != "<<" {
				c.broken = true
				service, field := splitServicePath(child)
				c.ps.add(&Error{
					File: file, Line: k.Line, Service: service, Field: field,
					Problem: fmt.Sprintf("key %q is already defined at line %d", k.Value, first),
					Fix:     "merge the two entries into one, or remove one of them",
					Err:     ErrSyntax,
				})
				continue
			}
			seen[k.Value] = k.Line
			if castWords[k.Value] {
				c.keys[k.Value] = true
			}
			c.set(child, pos{file, k.Line})
			c.walk(file, n.Content[i+1], child)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			if item.Kind == yaml.ScalarNode {
				c.set(path+"="+item.Value, pos{file, item.Line})
			}
			elem := path + "[" + strconv.Itoa(i) + "]"
			c.set(elem, pos{file, item.Line})
			c.walk(file, item, elem)
		}
	case yaml.ScalarNode:
		c.checkScalar(file, n, path)
	case yaml.AliasNode, yaml.DocumentNode:
	}
}

func (c *rawChecker) set(path string, p pos) {
	if c.included {
		if _, ok := c.idx[path]; ok {
			return
		}
	}
	c.idx[path] = p
}

var listItem = regexp.MustCompile(`^services\.([^.]+)\.(ports|volumes)\[\d+\]$`)

func (c *rawChecker) checkScalar(file string, n *yaml.Node, path string) {
	service, field := splitServicePath(path)
	value := n.Value
	if strings.Contains(value, "$") {
		if c.included {
			return
		}
		v, err := template.Substitute(value, c.lookup)
		if err != nil {
			c.ps.add(interpolationError(file, n.Line, service, field, value, err))
			if listItem.MatchString(path) {
				c.bad[n] = true // the salvage load leaves the entry out, to find the other problems
			}
			return
		}
		value = v
	}
	m := listItem.FindStringSubmatch(path)
	if m == nil {
		return
	}
	switch m[2] {
	case "ports":
		if _, err := types.ParsePortConfig(value); err != nil {
			c.ps.add(&Error{
				File: file, Line: n.Line, Service: service, Field: field,
				Problem: fmt.Sprintf("%q: %v", value, err),
				Fix:     `write [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL] with ports 1-65535, e.g. "8080:80" or "127.0.0.1:5432:5432/tcp"`,
				Err:     fmt.Errorf("%w: %w", ErrInvalidPort, err),
			})
			c.bad[n] = true
		}
	case "volumes":
		if _, err := format.ParseVolume(value); err != nil {
			c.ps.add(&Error{
				File: file, Line: n.Line, Service: service, Field: field,
				Problem: fmt.Sprintf("%q: %v", value, err),
				Fix:     `write SOURCE:TARGET[:MODE], e.g. "data:/var/lib/data" or "./conf:/etc/app:ro"`,
				Err:     fmt.Errorf("%w: %w", ErrInvalidVolume, err),
			})
			c.bad[n] = true
		}
	}
}

func interpolationError(file string, line int, service, field, value string, err error) *Error {
	e := &Error{File: file, Line: line, Service: service, Field: field, Err: fmt.Errorf("%w: %w", ErrRequiredVariable, err)}
	var missing *template.MissingRequiredError
	var invalid *template.InvalidTemplateError
	switch {
	case errors.As(err, &missing):
		e.Problem = fmt.Sprintf("required variable %s is not set", missing.Variable)
		if missing.Reason != "" {
			e.Problem += " (" + missing.Reason + ")"
		}
		e.Fix = fmt.Sprintf("set %s in the environment or in the .env file (or --env-file), or give it a default: ${%s:-value}", missing.Variable, missing.Variable)
	case errors.As(err, &invalid):
		e.Problem = fmt.Sprintf("invalid interpolation %q", value)
		e.Fix = "write ${NAME}, ${NAME:-default} or ${NAME:?message}, and $$ for a literal $"
	default:
		e.Problem = fmt.Sprintf("interpolating %q: %v", value, err)
		e.Fix = "write ${NAME}, ${NAME:-default} or ${NAME:?message}, and $$ for a literal $"
	}
	return e
}

// splitServicePath splits "services.web.ports[1]" into ("web", "ports[1]");
// paths outside services come back whole as the field.
func splitServicePath(path string) (service, field string) {
	rest, ok := strings.CutPrefix(path, "services.")
	if !ok {
		return "", path
	}
	service, field, _ = strings.Cut(rest, ".")
	if i := strings.Index(service, "["); i >= 0 {
		service, field = service[:i], service[i:]
	}
	return service, field
}

// yamlError finds the line and message of a YAML parse error: the line the
// parser stopped at. When that is the end of the file (an unclosed quote,
// say), the line says little, so the message also names the construct and
// the line it starts on.
func yamlError(err error, content []byte) (line int, msg string) {
	var le *yaml.LoadError
	if !errors.As(err, &le) {
		return 0, strings.TrimPrefix(err.Error(), "yaml: ")
	}
	msg, line = le.Message, le.Mark.Line
	if body := bytes.TrimRight(content, " \t\r\n"); le.Mark.Index >= len(body) {
		line = bytes.Count(body, []byte("\n")) + 1
		if le.ContextMsg != "" {
			msg = fmt.Sprintf("%s (from line %d): %s", le.ContextMsg, le.ContextMark.Line, msg)
		}
	}
	return line, msg
}

// locate returns where service's field is written, falling back to the
// service, then to the first compose file.
func (idx index) locate(fallback, service string, fields ...string) pos {
	for _, f := range fields {
		if p, ok := idx["services."+service+"."+f]; ok {
			return p
		}
	}
	if p, ok := idx["services."+service]; ok {
		return p
	}
	return pos{file: fallback}
}

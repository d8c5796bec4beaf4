package manifest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/go-multierror"
	"github.com/stack-deploy/stack/internal/dag"
)

// Sentinels for the validation problems Load reports; each arrives wrapped in
// an *Error that says where (file, line, service, field) and how to fix it.
// Check them with errors.Is, and get the details with errors.As(err, &*Error).
var (
	// ErrSyntax: a compose file is not valid YAML.
	ErrSyntax = errors.New("invalid YAML")
	// ErrUnknownDependency: depends_on names a service that does not exist.
	ErrUnknownDependency = errors.New("dependency on an undefined service")
	// ErrDependencyCycle: services depend on each other in a loop; the one
	// sentinel of cycles, the walker's (engine.ErrCycle) too.
	ErrDependencyCycle = dag.ErrCycle
	// ErrSelfReference: a service names itself where another service
	// belongs (network_mode: service:itself, links, volumes_from, ...).
	ErrSelfReference = errors.New("service refers to itself")
	// ErrNoImage: a service has neither image nor build.
	ErrNoImage = errors.New("neither image nor build")
	// ErrInvalidPort: a ports entry does not parse.
	ErrInvalidPort = errors.New("invalid port")
	// ErrInvalidVolume: a volumes entry does not parse.
	ErrInvalidVolume = errors.New("invalid volume")
	// ErrRequiredVariable: a ${X:?message} or ${X?message} variable is unset
	// (or empty), or a ${...} template is malformed.
	ErrRequiredVariable = errors.New("required variable unset")
	// ErrDuplicateContainerName: two services set the same container_name.
	ErrDuplicateContainerName = errors.New("duplicate container_name")
	// ErrDisabledDependency: a service depends on a service that none of the
	// enabled profiles turns on.
	ErrDisabledDependency = errors.New("dependency on a profile-disabled service")
	// ErrUnknownExtensionKey: a key inside x-stack that stack does not know.
	ErrUnknownExtensionKey = errors.New("unknown x-stack key")
	// ErrUnreadableFile: a file the manifest (or the command line) names
	// cannot be read: missing, or ErrNotRegularFile, or ErrFileTooLarge.
	ErrUnreadableFile = errors.New("unreadable file")
	// ErrNotRegularFile: the file is a directory, a FIFO, a device or a
	// socket; loading reads regular files only.
	ErrNotRegularFile = errors.New("not a regular file")
	// ErrFileTooLarge: the file is larger than MaxFileSize.
	ErrFileTooLarge = errors.New("file too large")
	// ErrYAMLLimit: a compose file nests deeper, or expands through its
	// aliases to more nodes, than loading allows (see budget.go).
	ErrYAMLLimit = errors.New("YAML beyond the loading limits")
	// ErrInvalid: any other problem compose-go reports about the model.
	ErrInvalid = errors.New("invalid compose project")
)

// Error is one problem in the manifest, located as precisely as the input
// allows: File and Line of the offending entry (Line 0 when unknown), the
// Service (empty for top-level problems) and the Field (a dotted path below
// the service, e.g. "depends_on" or "ports[1]").
type Error struct {
	File    string
	Line    int
	Service string
	Field   string
	// Problem says what is wrong, Fix how to make it right.
	Problem string
	Fix     string
	// Err is one of the sentinels above, possibly wrapping compose-go's error.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(displayPath(e.File))
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Service != "" {
		fmt.Fprintf(&b, "service %q: ", e.Service)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Problem)
	if e.Fix != "" {
		b.WriteString("; " + e.Fix)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// problems collects every validation error found in one pass, so the user
// fixes a file in one go instead of one error per run.
type problems struct {
	errs []*Error
}

func (ps *problems) add(e *Error) { ps.errs = append(ps.errs, e) }

// err returns nil, the single error, or a multierror listing all of them in
// file and line order.
func (ps *problems) err() error {
	switch len(ps.errs) {
	case 0:
		return nil
	case 1:
		return ps.errs[0]
	}
	sort.SliceStable(ps.errs, func(i, j int) bool {
		a, b := ps.errs[i], ps.errs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	m := &multierror.Error{ErrorFormat: formatProblems}
	for _, e := range ps.errs {
		m.Errors = append(m.Errors, e)
	}
	return m
}

func formatProblems(errs []error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems in the compose files:", len(errs))
	for _, e := range errs {
		b.WriteString("\n  " + e.Error())
	}
	return b.String()
}

// displayPath shortens an absolute file name to one relative to the working
// directory when the file is below it, as the user most likely typed it.
func displayPath(file string) string {
	switch file {
	case "":
		return "compose file"
	case "-":
		return "stdin"
	}
	wd, err := os.Getwd()
	if err != nil || !filepath.IsAbs(file) {
		return file
	}
	rel, err := filepath.Rel(wd, file)
	if err != nil || strings.HasPrefix(rel, "..") {
		return file
	}
	return rel
}

package image

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// baseImages returns the images a Dockerfile's FROM lines name, in order,
// leaving out earlier stages and scratch. ARGs declared before the first FROM
// are substituted, with build args overriding their defaults, as the engine
// does. It reads only what it needs to order builds and to notice a changed
// base image; the engine's own parser decides everything else.
func baseImages(dockerfile []byte, args map[string]string) []string {
	var (
		bases    []string
		stages   = map[string]bool{}
		metaArg  = map[string]string{}
		seenFrom bool
	)
	lookup := func(name string) string {
		name, def, hasDef := strings.Cut(name, ":-")
		if v, ok := args[name]; ok && (v != "" || !hasDef) {
			return v
		}
		if v, ok := metaArg[name]; ok && (v != "" || !hasDef) {
			return v
		}
		return def
	}
	for _, ins := range instructions(dockerfile) {
		fields := strings.Fields(ins)
		if len(fields) < 2 {
			continue
		}
		switch strings.ToUpper(fields[0]) {
		case "ARG":
			if seenFrom {
				continue
			}
			for _, decl := range fields[1:] {
				name, def, _ := strings.Cut(decl, "=")
				metaArg[name] = strings.Trim(def, `"'`)
			}
		case "FROM":
			seenFrom = true
			rest := fields[1:]
			for len(rest) > 0 && strings.HasPrefix(rest[0], "--") {
				rest = rest[1:]
			}
			if len(rest) == 0 {
				continue
			}
			ref := os.Expand(rest[0], lookup)
			if ref != "" && ref != "scratch" && !stages[strings.ToLower(ref)] {
				bases = append(bases, ref)
			}
			// A stage name is usable by the FROM lines after its own.
			if len(rest) >= 3 && strings.EqualFold(rest[1], "AS") {
				stages[strings.ToLower(rest[2])] = true
			}
		}
	}
	return bases
}

// instructions splits a Dockerfile into instructions: comments and blank
// lines dropped, backslash continuations joined.
func instructions(dockerfile []byte) []string {
	var (
		out []string
		cur strings.Builder
	)
	sc := bufio.NewScanner(bytes.NewReader(dockerfile))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cur.WriteString(strings.TrimSuffix(line, `\`) + " ")
			continue
		}
		cur.WriteString(line)
		out = append(out, cur.String())
		cur.Reset()
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// syntaxDirective is a Dockerfile's `# syntax=` parser directive: the image
// of the frontend BuildKit is to parse the file with instead of its own.
type syntaxDirective struct {
	ref  string
	line int // 0 when the BUILDKIT_SYNTAX build arg set it
}

// at says where the directive is: "Dockerfile:1: # syntax=REF".
func (d *syntaxDirective) at(dockerfile string) string {
	if d.line == 0 {
		return "build arg BUILDKIT_SYNTAX=" + d.ref
	}
	return fmt.Sprintf("%s:%d: # syntax=%s", dockerfile, d.line, d.ref)
}

var directive = regexp.MustCompile(`^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`)

// syntaxOf returns the frontend a Dockerfile asks for, as BuildKit reads
// it: the BUILDKIT_SYNTAX build arg, else a syntax directive among the
// comments that open the file (directives end at the first line that is
// none).
func syntaxOf(dockerfile []byte, args map[string]string) *syntaxDirective {
	if ref := args["BUILDKIT_SYNTAX"]; ref != "" {
		return &syntaxDirective{ref: ref}
	}
	sc := bufio.NewScanner(bytes.NewReader(dockerfile))
	for n := 1; sc.Scan(); n++ {
		m := directive.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			return nil
		}
		if strings.EqualFold(m[1], "syntax") {
			return &syntaxDirective{ref: m[2], line: n}
		}
	}
	return nil
}

package manifest

import (
	"fmt"

	"go.yaml.in/yaml/v4"
)

// The limits of one YAML document, as decoding sees it: aliases expanded.
// A parsed document keeps an alias as a pointer to its anchor, but every
// decoder downstream (compose-go's, into maps) copies the anchor's value at
// each alias, so nine levels of nine aliases ("billion laughs") are a few
// hundred bytes to parse and 387 million values to decode. The document is
// measured before anything decodes it, in time linear in its parsed size.
const (
	// maxDepth bounds nesting: compose files need about ten levels, and
	// compose-go's work per value grows with its depth.
	maxDepth = 100
	// maxNodes bounds the values of a document, aliases expanded: a 32 MiB
	// file (MaxFileSize) of ordinary services has about 2.5 million.
	maxNodes = 4_000_000
	// maxAliasNodes bounds the values aliases add: a service template of a
	// hundred values reused by two thousand services fits, and what aliases
	// can add costs no more to load than a 3 MB file (compose-go spends
	// about 35 µs and keeps 1.5 KB per value).
	maxAliasNodes = 200_000
)

// extent is the size of a node with its aliases expanded: values, and levels
// below it.
type extent struct {
	nodes int64
	depth int
}

// budget measures one document against the limits. Only anchored nodes are
// remembered, so an alias costs one lookup however large its value.
type budget struct {
	anchors map[*yaml.Node]extent // anchored nodes measured so far
	aliased int64                 // values added by aliases so far
	total   int64                 // values so far, aliases expanded
	fail    *Error
}

// checkBudget returns the first limit doc goes past, located at the node
// that does, or nil.
func checkBudget(file string, doc *yaml.Node) *Error {
	b := &budget{anchors: map[*yaml.Node]extent{}}
	b.measure(file, doc, 0)
	return b.fail
}

func (b *budget) measure(file string, n *yaml.Node, level int) extent {
	if b.fail != nil {
		return extent{}
	}
	if level > maxDepth {
		b.fail = limitError(file, n, fmt.Sprintf("the values nest deeper than %d levels", maxDepth),
			"a compose file needs a few levels: flatten this structure")
		return extent{}
	}
	if n.Kind == yaml.AliasNode {
		return b.alias(file, n, level)
	}
	e := extent{nodes: 1}
	b.total++
	for _, c := range n.Content {
		ce := b.measure(file, c, level+1)
		e.nodes += ce.nodes
		e.depth = max(e.depth, ce.depth+1)
	}
	if b.fail == nil && b.total > maxNodes {
		b.fail = limitError(file, n, fmt.Sprintf("the file has more than %d values (aliases expanded)", maxNodes),
			"split it into several compose files")
	}
	if n.Anchor != "" {
		b.anchors[n] = e
	}
	return e
}

// alias accounts for the copy of its anchor's value that decoding makes.
// YAML defines an anchor before its aliases, and the walk is in document
// order, so an anchor not measured yet is one the alias is inside of.
func (b *budget) alias(file string, n *yaml.Node, level int) extent {
	e, ok := b.anchors[n.Alias]
	if !ok {
		b.fail = limitError(file, n, fmt.Sprintf("alias *%s is inside the value it refers to", n.Value),
			"an alias must refer to a value defined before it, not to one that contains it")
		return extent{}
	}
	b.aliased += e.nodes
	b.total += e.nodes
	switch {
	case b.aliased > maxAliasNodes:
		b.fail = limitError(file, n, fmt.Sprintf("the aliases expand to more than %d values (alias *%s adds %d here)", maxAliasNodes, n.Value, e.nodes),
			"nested aliases multiply (a \"billion laughs\"): write the values out, or use fewer levels of aliases")
	case level+e.depth > maxDepth:
		b.fail = limitError(file, n, fmt.Sprintf("alias *%s nests the values deeper than %d levels", n.Value, maxDepth),
			"a compose file needs a few levels: flatten this structure")
	}
	return e
}

func limitError(file string, n *yaml.Node, problem, fix string) *Error {
	return &Error{File: file, Line: n.Line, Problem: problem, Fix: fix, Err: ErrYAMLLimit}
}

package e2e

import (
	"fmt"
	"strings"
)

// DAGWide and DAGDeep are the shape of the layered DAG the LayeredDAG
// benchmarks deploy on each engine: DAGDeep layers of DAGWide services.
const DAGWide, DAGDeep = 6, 5

// DAG says how a benchmark spells the layered DAG for its engine.
type DAG struct {
	// Image is every service's image.
	Image string
	// Extra is YAML every service adds, each line indented four spaces
	// and ending in a newline ("    init: true\n").
	Extra string
	// Short writes depends_on as a list of names, which docker stack
	// deploy takes (it refuses the long form); else each dependency is
	// {condition: service_started}. Both mean the same to stack.
	Short bool
}

// LayeredDAG is the services: block of DAGDeep layers of DAGWide services
// s<layer><i>, each running `sleep 3600` in d.Image; each service depends
// on every service of the layer above. No top-level name: each benchmark
// names its project.
func LayeredDAG(d DAG) string {
	var b strings.Builder
	b.WriteString("services:\n")
	for l := 0; l < DAGDeep; l++ {
		for i := 0; i < DAGWide; i++ {
			fmt.Fprintf(&b, "  s%d%d:\n    image: %s\n    command: [\"sleep\", \"3600\"]\n%s", l, i, d.Image, d.Extra)
			if l == 0 {
				continue
			}
			deps := make([]string, DAGWide)
			for j := range deps {
				deps[j] = fmt.Sprintf("s%d%d", l-1, j)
			}
			if d.Short {
				fmt.Fprintf(&b, "    depends_on: [%s]\n", strings.Join(deps, ", "))
				continue
			}
			b.WriteString("    depends_on:\n")
			for _, dep := range deps {
				fmt.Fprintf(&b, "      %s: {condition: service_started}\n", dep)
			}
		}
	}
	return b.String()
}

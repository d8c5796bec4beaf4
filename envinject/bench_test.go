package envinject_test

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/stack-deploy/stack/envinject"
)

// BenchmarkApply: injection for stacks of n services, each depending on up
// to three earlier ones (one of which exposes two ports) and with one
// template in its environment. Figures: time and memory per Apply.
//
//	go test -run '^$' -bench Apply -benchmem ./envinject/
func BenchmarkApply(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			var compose strings.Builder
			compose.WriteString("services:\n")
			for i := range n {
				fmt.Fprintf(&compose, "  svc-%d:\n    image: img\n    expose: [\"%d\", \"%d\"]\n", i, 1000+i, 2000+i)
				if i > 0 {
					fmt.Fprintf(&compose, "    environment: {URL: \"http://{{svc-%d.host}}:{{svc-%d.port}}/\"}\n    depends_on: [", i-1, i-1)
					for j := max(0, i-3); j < i; j++ {
						fmt.Fprintf(&compose, "svc-%d, ", j)
					}
					compose.WriteString("]\n")
				}
			}
			p := load(b, map[string]string{"compose.yaml": compose.String()})
			declared := map[string]types.MappingWithEquals{}
			for name, s := range p.Project.Services {
				declared[name] = maps.Clone(s.Environment)
			}
			b.ReportAllocs()
			for b.Loop() {
				for name, env := range declared {
					s := p.Project.Services[name]
					s.Environment = maps.Clone(env)
					p.Project.Services[name] = s
				}
				if _, err := envinject.Apply(p, fakeFacts{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

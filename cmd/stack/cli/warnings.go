package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/stack-deploy/stack/engine"
	"github.com/stack-deploy/stack/progress"
)

// warningsTo is the progress sink of the verbs that print a reading
// (stats, events, logs): a warning a driver reports (a Swarm node whose
// engine cannot be reached) is one line on w; every other event is left
// out, the verb's output being the reading itself.
func warningsTo(w io.Writer) progress.Sink {
	lw := &lockedWriter{w: w}
	return progress.SinkFunc(func(e progress.Event) {
		if e.Status != progress.Warning {
			return
		}
		fmt.Fprintf(lw, "warning: %s: %s\n", strings.Replace(e.Resource, ":", " ", 1), e.Message)
	})
}

// sampleName is a container's name in stats' table: on a Swarm, with the
// node its task runs on (<task>@<node>, as docker service ps and logs
// name them).
func sampleName(s engine.Sample) string {
	if s.Node != "" {
		return s.Container.Name + "@" + s.Node
	}
	return s.Container.Name
}

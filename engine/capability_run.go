package engine

import (
	"fmt"
	"slices"
)

// RunRefusal is a flag of `stack run` an orchestrator cannot honour: its
// name as the user typed it, whether RunOptions set it, and what to do
// instead.
type RunRefusal struct {
	Flag string
	Set  bool
	Why  string
}

// RefuseRun returns an ErrUnsupported error naming the first refusal that
// is set, nil when none is: what a RunChecker returns.
func RefuseRun(orchestrator string, refusals []RunRefusal) error {
	for _, r := range refusals {
		if r.Set {
			return fmt.Errorf("stack run %s: %w by the %s orchestrator: %s", r.Flag, ErrUnsupported, orchestrator, r.Why)
		}
	}
	return nil
}

// Capabilities are a service's added and dropped capabilities with o's
// applied, as compose run applies --cap-add and --cap-drop: the command
// line wins over the manifest (a capability added is no longer dropped, one
// dropped no longer added). add and drop are not changed.
func (o RunOptions) Capabilities(add, drop []string) (newAdd, newDrop []string) {
	newAdd, newDrop = slices.Clone(add), slices.Clone(drop)
	if len(o.CapAdd) > 0 {
		newDrop = slices.DeleteFunc(newDrop, func(c string) bool { return slices.Contains(o.CapAdd, c) })
		newAdd = append(newAdd, o.CapAdd...)
	}
	if len(o.CapDrop) > 0 {
		newAdd = slices.DeleteFunc(newAdd, func(c string) bool { return slices.Contains(o.CapDrop, c) })
		newDrop = append(newDrop, o.CapDrop...)
	}
	return newAdd, newDrop
}

// WithLabels returns labels with o's added: a new map, labels is not
// changed.
func (o RunOptions) WithLabels(labels map[string]string) map[string]string {
	out := make(map[string]string, len(labels)+len(o.Labels))
	for k, v := range labels {
		out[k] = v
	}
	for k, v := range o.Labels {
		out[k] = v
	}
	return out
}

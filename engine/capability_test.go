package engine_test

import (
	"errors"
	"testing"

	"github.com/stack-deploy/stack/engine"
)

// bareDriver is a Driver with no capability beyond converging, as a new
// orchestrator's starts.
type bareDriver struct{ engine.Driver }

func (bareDriver) Name() string { return "swarm" }

func TestCapabilityNamesTheVerbAndTheOrchestrator(t *testing.T) {
	d := bareDriver{}
	for verb, ask := range map[string]func() error{
		"stats":  func() error { _, err := engine.Capability[engine.StatsReader](d, "stats"); return err },
		"events": func() error { _, err := engine.Capability[engine.EventWatcher](d, "events"); return err },
		"kill":   func() error { _, err := engine.Capability[engine.Killer](d, "kill"); return err },
		"pause":  func() error { _, err := engine.Capability[engine.Pauser](d, "pause"); return err },
		"rm":     func() error { _, err := engine.Capability[engine.Remover](d, "rm"); return err },
		"wait":   func() error { _, err := engine.Capability[engine.Waiter](d, "wait"); return err },
		"cp":     func() error { _, err := engine.Capability[engine.Copier](d, "cp"); return err },
		"top":    func() error { _, err := engine.Capability[engine.Topper](d, "top"); return err },
		"port":   func() error { _, err := engine.Capability[engine.PortResolver](d, "port"); return err },
		"images": func() error { _, err := engine.Capability[engine.ImageLister](d, "images"); return err },
		"ls":     func() error { _, err := engine.Capability[engine.ProjectLister](d, "ls"); return err },
	} {
		err := ask()
		if want := "stack " + verb + ": not supported by the swarm orchestrator"; !errors.Is(err, engine.ErrUnsupported) || err.Error() != want {
			t.Errorf("%s: %v, want %q", verb, err, want)
		}
	}
}

func TestSampleFiguresWithoutLimitOrCPUs(t *testing.T) {
	s := engine.Sample{CPUPercent: 150, CPUs: 2}
	if s.CPUOfMachine() != 75 || s.CPUOfLimit() != 75 || s.MemoryPercent() != 0 {
		t.Errorf("%+v: machine %v, limit %v, memory %v; want 75, 75 (the machine is the limit), 0", s, s.CPUOfMachine(), s.CPUOfLimit(), s.MemoryPercent())
	}
	if (engine.Sample{CPUPercent: 10}).CPUOfMachine() != 0 {
		t.Error("no CPU count: want 0, not a division by zero")
	}
}

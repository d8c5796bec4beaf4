package docker

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	timetypes "github.com/docker/docker/api/types/time"
	"github.com/docker/docker/api/types/volume"

	"github.com/stack-deploy/stack/engine"
)

// The last lines of a container that is replaced or removed stay on the
// engine, for `stack logs --previous`: before the container goes, its last
// previousLines lines are kept in the labels of an empty volume named after
// its replica, <project>-<service>-<number>.previous-logs, which the next
// replacement of that replica overwrites. A volume because it is what the
// engine keeps for a project apart from containers (a remote engine's
// users all see it, `down` leaves it, `down -v` and the project's label
// remove it), and empty because labels are all it needs: reading them back
// is one list call, with no container to create.
const (
	previousLines = 100
	// previousMaxBytes bounds the encoded lines: every volume list carries
	// them.
	previousMaxBytes = 32 << 10
)

// previous is what a volume keeps of one container.
type previous struct {
	Container string         `json:"container"`
	ID        string         `json:"id"`
	Service   string         `json:"service"`
	Number    int            `json:"number"`
	ExitCode  int            `json:"exit_code"`
	Finished  time.Time      `json:"finished"`
	Lines     []previousLine `json:"lines"`
}

type previousLine struct {
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
	Text   string    `json:"text"`
}

// previousVolume is the name of the volume that keeps replica number of
// service's previous container.
func previousVolume(project, service string, number int) string {
	return ContainerName(project, service, number) + ".previous-logs"
}

// savePrevious keeps the last lines of container ref of project (a service
// container; a one-off is left alone), in place of what an earlier
// container of its replica left. It is meant for a container that has
// stopped and is about to be removed, when its output is final: a
// replacement calls it between stopping the old container and removing it.
func savePrevious(ctx context.Context, c Client, project, ref string) error {
	ins, err := c.ContainerInspect(ctx, ref)
	if err != nil {
		return fmt.Errorf("inspecting container %q: %w", ref, err)
	}
	if ins.Config == nil || ins.Config.Labels[engine.LabelOneoff] == "true" || ins.Config.Labels[engine.LabelService] == "" {
		return nil
	}
	if started, err := time.Parse(time.RFC3339Nano, startedAt(ins)); err != nil || started.Year() <= 1 {
		// Created and never started: it would hide what the replica's
		// last container that ran left.
		return nil
	}
	labels := ins.Config.Labels
	p := previous{ID: ins.ID, Service: labels[engine.LabelService]}
	p.Container = strings.TrimPrefix(ins.Name, "/")
	p.Number, _ = strconv.Atoi(labels[engine.LabelContainerNumber])
	p.ExitCode = ins.State.ExitCode
	p.Finished, _ = time.Parse(time.RFC3339Nano, ins.State.FinishedAt)
	rc, err := c.ContainerLogs(ctx, ins.ID, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: strconv.Itoa(previousLines), Timestamps: true})
	if err != nil {
		return fmt.Errorf("reading logs of container %q: %w", p.Container, err)
	}
	defer rc.Close()
	err = splitLogs(engine.Container{}, rc, ins.Config.Tty, func(l engine.LogLine) {
		p.Lines = append(p.Lines, previousLine{Stream: l.Stream, Time: l.Time, Text: l.Text})
	})
	if err != nil {
		return fmt.Errorf("reading logs of container %q: %w", p.Container, err)
	}
	encoded, err := encodePrevious(p)
	if err != nil {
		return err
	}
	name := previousVolume(project, p.Service, p.Number)
	// Created once more rather than updated: the engine cannot change a
	// volume's labels, and creating an existing name returns it as it was.
	if err := c.VolumeRemove(ctx, name, false); err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("removing volume %q: %w", name, err)
	}
	_, err = c.VolumeCreate(ctx, volume.CreateOptions{Name: name, Labels: map[string]string{
		engine.LabelProject:         project,
		engine.LabelService:         p.Service,
		engine.LabelContainerNumber: strconv.Itoa(p.Number),
		engine.LabelPreviousLogs:    encoded,
	}})
	if err != nil {
		return fmt.Errorf("creating volume %q: %w", name, err)
	}
	return nil
}

func startedAt(ins container.InspectResponse) string {
	if ins.ContainerJSONBase == nil || ins.State == nil {
		return ""
	}
	return ins.State.StartedAt
}

// encodePrevious gives p as gzipped JSON in base64 (a label holds text),
// dropping its oldest lines until it fits previousMaxBytes.
func encodePrevious(p previous) (string, error) {
	for {
		var buf bytes.Buffer
		b64 := base64.NewEncoder(base64.StdEncoding, &buf)
		zw := gzip.NewWriter(b64)
		if err := json.NewEncoder(zw).Encode(p); err != nil {
			return "", fmt.Errorf("encoding the last lines of container %q: %w", p.Container, err)
		}
		// gzip's Close does not close what it writes to: base64 holds
		// back a partial block until its own.
		if err := errors.Join(zw.Close(), b64.Close()); err != nil {
			return "", fmt.Errorf("encoding the last lines of container %q: %w", p.Container, err)
		}
		if buf.Len() <= previousMaxBytes || len(p.Lines) == 0 {
			return buf.String(), nil
		}
		p.Lines = p.Lines[len(p.Lines)/2+1:]
	}
}

// decodePrevious reads what encodePrevious wrote.
func decodePrevious(s string) (previous, error) {
	var p previous
	zr, err := gzip.NewReader(base64.NewDecoder(base64.StdEncoding, bytes.NewBufferString(s)))
	if err != nil {
		return p, err
	}
	defer zr.Close()
	err = json.NewDecoder(zr).Decode(&p)
	return p, err
}

// previousLogs calls line for the kept lines of the replicas o selects, as
// `stack logs` reads a container's: the last o.Tail of them, between
// o.Since and o.Until.
func (d *Driver) previousLogs(ctx context.Context, project string, o engine.LogsOptions, line func(engine.LogLine)) error {
	vs, err := d.client.VolumeList(ctx, volume.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", engine.LabelProject+"="+project),
		filters.Arg("label", engine.LabelPreviousLogs),
	)})
	if err != nil {
		return fmt.Errorf("listing the kept lines of project %q: %w", project, err)
	}
	since, until, err := logWindow(o.Since, o.Until, time.Now())
	if err != nil {
		return err
	}
	var kept []previous
	for _, v := range vs.Volumes {
		p, err := decodePrevious(v.Labels[engine.LabelPreviousLogs])
		if err != nil {
			return fmt.Errorf("reading the kept lines of volume %q: %w", v.Name, err)
		}
		if selected(engine.Container{Service: p.Service, Number: p.Number}, o.Services, o.Index) {
			kept = append(kept, p)
		}
	}
	if len(kept) == 0 {
		return fmt.Errorf("%w of %s: none was replaced or removed (stack keeps the last %d lines of the container each replica had before its current one)", engine.ErrNoPrevious, selection(o), previousLines)
	}
	sort.Slice(kept, func(i, j int) bool {
		if kept[i].Service != kept[j].Service {
			return kept[i].Service < kept[j].Service
		}
		return kept[i].Number < kept[j].Number
	})
	for _, p := range kept {
		c := engine.Container{ID: p.ID, Name: p.Container, Service: p.Service, Number: p.Number, State: "removed", ExitCode: p.ExitCode}
		var inWindow []previousLine
		for _, l := range p.Lines {
			if (since.IsZero() || !l.Time.Before(since)) && (until.IsZero() || !l.Time.After(until)) {
				inWindow = append(inWindow, l)
			}
		}
		if n, err := strconv.Atoi(o.Tail); err == nil && n >= 0 && n < len(inWindow) {
			inWindow = inWindow[len(inWindow)-n:]
		}
		for _, l := range inWindow {
			line(engine.LogLine{Container: c, Stream: l.Stream, Time: l.Time, Text: l.Text})
		}
	}
	return nil
}

// logWindow reads --since and --until as the engine does (a time, a Unix
// time or a duration before now); zero where not given.
func logWindow(since, until string, now time.Time) (time.Time, time.Time, error) {
	var out [2]time.Time
	for i, v := range []string{since, until} {
		if v == "" {
			continue
		}
		ts, err := timetypes.GetTimestamp(v, now)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("--%s %q: %w", []string{"since", "until"}[i], v, err)
		}
		secs, nanos, err := timetypes.ParseTimestamps(ts, 0)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("--%s %q: %w", []string{"since", "until"}[i], v, err)
		}
		out[i] = time.Unix(secs, nanos)
	}
	return out[0], out[1], nil
}

// selection names what o selects, for messages.
func selection(o engine.LogsOptions) string {
	what := "the project"
	if len(o.Services) > 0 {
		what = fmt.Sprintf("service %q", o.Services[0])
		if len(o.Services) > 1 {
			what = fmt.Sprintf("services %q", o.Services)
		}
	}
	if o.Index > 0 {
		what += fmt.Sprintf(" (replica %d)", o.Index)
	}
	return what
}

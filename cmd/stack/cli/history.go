package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stack-deploy/stack/manifest"
	"github.com/stack-deploy/stack/registry"
)

// The release history of an environment (registry.History) is read and
// written by release, promote, up --lock, verify, rollback and releases
// through these.

// history opens the release history of p's environment: its lock files
// and logs in .stack/releases and its records in the environment's registry.
func (g *Globals) history(p *manifest.Project) (*registry.History, error) {
	pr, err := registry.NewPromoter()
	if err != nil {
		return nil, err
	}
	return registry.NewHistory(p, pr)
}

// releasesOf reads p's environment's history, newest first, and marks the
// release its engine runs (returned; nil when none or no engine answers).
func (g *Globals) releasesOf(ctx context.Context, p *manifest.Project) (*registry.History, []*registry.Release, *registry.Release, error) {
	h, err := g.history(p)
	if err != nil {
		return nil, nil, nil, err
	}
	releases, err := h.Releases(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	running := registry.MarkRunning(releases, g.running(ctx, p))
	return h, releases, running, nil
}

// writeHistory prints releases as a table or as JSON.
func writeHistory(g *Globals, releases []*registry.Release, format string) error {
	if format == "json" {
		return writeHistoryJSON(g, releases)
	}
	w := tabwriter.NewWriter(g.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "TAG\tIMAGES\tSTATUS\tWHEN\tBY\tFROM\tFILE")
	for _, r := range releases {
		s := r.Status()
		file := r.Path
		if file == "" {
			file = "(registry)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Lock.Tag, images(r.Lock), s, s.Time.UTC().Format("2006-01-02 15:04:05Z"), dash(s.By), dash(from(r.Lock)), file)
	}
	return w.Flush()
}

// images is "service@<short digest>" for every service, comma-separated.
func images(l *registry.Lock) string {
	var out []string
	for _, svc := range l.ServiceNames() {
		d, _ := l.Services[svc].Digest()
		out = append(out, svc+"@"+registry.Short(d))
	}
	return strings.Join(out, ",")
}

// from says where a promoted release came from, and whether it was forced.
func from(l *registry.Lock) string {
	if l.PromotedFrom == nil {
		return ""
	}
	if l.PromotedFrom.Forced {
		return l.PromotedFrom.Environment + " (forced)"
	}
	return l.PromotedFrom.Environment
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func writeHistoryJSON(g *Globals, releases []*registry.Release) error {
	type item struct {
		Tag        string            `json:"tag"`
		ID         string            `json:"id"`
		Images     map[string]string `json:"images"`
		Status     string            `json:"status"`
		State      string            `json:"state"`
		Running    bool              `json:"running"`
		Current    bool              `json:"current"`
		RolledBack bool              `json:"rolled_back"`
		When       time.Time         `json:"when"`
		By         string            `json:"by,omitempty"`
		Detail     string            `json:"detail,omitempty"`
		From       string            `json:"from,omitempty"`
		Forced     bool              `json:"forced,omitempty"`
		Path       string            `json:"path,omitempty"`
		Lock       *registry.Lock    `json:"lock"`
		// Deploys and Verifications are every attempt, oldest first.
		Deploys       []registry.Deploy       `json:"deploys"`
		Verifications []registry.Verification `json:"verifications"`
	}
	items := make([]item, 0, len(releases))
	for _, r := range releases {
		s := r.Status()
		it := item{Tag: r.Lock.Tag, ID: r.ID, Images: map[string]string{}, Status: s.String(), State: s.State, Running: r.Running,
			Current: r.Current, RolledBack: s.RolledBack, When: s.Time, By: s.By, Detail: s.Detail, Path: r.Path, Lock: r.Lock,
			Deploys: r.Deploys, Verifications: r.Verifications}
		for svc, si := range r.Lock.Services {
			it.Images[svc] = si.Image
		}
		if o := r.Lock.PromotedFrom; o != nil {
			it.From, it.Forced = o.Environment, o.Forced
		}
		if it.Deploys == nil {
			it.Deploys = []registry.Deploy{}
		}
		if it.Verifications == nil {
			it.Verifications = []registry.Verification{}
		}
		items = append(items, it)
	}
	b, err := json.MarshalIndent(items, "", "  ")
	if err != nil {
		return fmt.Errorf("rendering the releases: %w", err)
	}
	_, err = fmt.Fprintf(g.Stdout, "%s\n", b)
	return err
}

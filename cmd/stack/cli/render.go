package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/term"

	"github.com/stack-deploy/stack/progress"
)

var progressModes = []string{"auto", "tty", "plain", "json"}

var termIsTerminal = term.IsTerminal

// newRenderer picks the renderer for --progress: json, plain lines, or live
// lines on a terminal (auto picks tty only when stderr is a terminal and CI is
// not set). Every kind writes to stderr, so stdout carries only a verb's
// result (a lock path, a digest, a table) and a CI job can read both apart.
func (g *Globals) newRenderer() progress.Sink {
	mode := g.Progress
	if mode == "auto" {
		mode = "plain"
		if isTerminal(g.Stderr) && !ciEnv() {
			mode = "tty"
		}
	}
	switch mode {
	case "json":
		return &jsonRenderer{w: g.Stderr}
	case "tty":
		width := 160
		if f, ok := g.Stderr.(*os.File); ok {
			if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 20 {
				width = w
			}
		}
		return &ttyRenderer{w: g.Stderr, index: map[string]int{}, width: width}
	default:
		return &plainRenderer{w: g.Stderr}
	}
}

type jsonRenderer struct {
	mu sync.Mutex
	w  io.Writer
}

type jsonEvent struct {
	progress.Event
	Error string `json:"error,omitempty"`
}

func (r *jsonRenderer) Event(e progress.Event) {
	je := jsonEvent{Event: e}
	if e.Err != nil {
		je.Error = e.Err.Error()
	}
	b, err := json.Marshal(je)
	if err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, _ = r.w.Write(append(b, '\n'))
}

type plainRenderer struct {
	mu sync.Mutex
	w  io.Writer
}

func (r *plainRenderer) Event(e progress.Event) {
	if e.Op != "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, _ = fmt.Fprintln(r.w, plainLine(e))
}

func plainLine(e progress.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-28s %-10s %s", e.Resource, e.Action, e.Status)
	if e.Message != "" {
		b.WriteString("  " + e.Message)
	}
	if e.Err != nil {
		b.WriteString("  " + e.Err.Error())
	}
	return b.String()
}

// ttyRenderer keeps one live line per resource and redraws them in place;
// messages of Info and Warning events are printed once above them.
type ttyRenderer struct {
	mu    sync.Mutex
	w     io.Writer
	lines []progress.Event
	index map[string]int
	drawn int
	width int // the terminal's columns: a wrapped line would break the redraw
}

func (r *ttyRenderer) Event(e progress.Event) {
	if e.Op != "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clear()
	if e.Status == progress.Info || e.Status == progress.Warning {
		_, _ = fmt.Fprintln(r.w, plainLine(e))
	} else if i, ok := r.index[e.Resource]; ok {
		r.lines[i] = e
	} else {
		r.index[e.Resource] = len(r.lines)
		r.lines = append(r.lines, e)
	}
	r.draw()
}

func (r *ttyRenderer) clear() {
	if r.drawn > 0 {
		fmt.Fprintf(r.w, "\x1b[%dA\x1b[J", r.drawn)
	}
	r.drawn = 0
}

func (r *ttyRenderer) draw() {
	for _, e := range r.lines {
		mark := map[progress.Status]string{
			progress.Working: "\x1b[33m…\x1b[0m", progress.Done: "\x1b[32m✔\x1b[0m",
			progress.Skipped: "\x1b[90m-\x1b[0m", progress.Failed: "\x1b[31m✘\x1b[0m",
		}[e.Status]
		// One screen line per resource: the first line of the message,
		// cut to the width (the full error is printed when the verb ends).
		text, _, _ := strings.Cut(plainLine(e), "\n")
		if runes := []rune(text); len(runes) > r.width-3 {
			text = string(runes[:r.width-3])
		}
		_, _ = fmt.Fprintf(r.w, " %s %s\n", mark, text)
	}
	r.drawn = len(r.lines)
}

func ciEnv() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v != "" && v != "false" && v != "0"
}

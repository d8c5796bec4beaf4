package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// message is one object of the engine's JSON message stream (the wire
// format of docker's pkg/jsonmessage, whose package would pull in terminal
// code this package has no use for).
type message struct {
	Stream   string `json:"stream,omitempty"`
	Status   string `json:"status,omitempty"`
	ID       string `json:"id,omitempty"`
	Progress *struct {
		Current int64 `json:"current,omitempty"`
		Total   int64 `json:"total,omitempty"`
	} `json:"progressDetail,omitempty"`
	Error *struct {
		Message string `json:"message,omitempty"`
	} `json:"errorDetail,omitempty"`
	ErrorMessage string          `json:"error,omitempty"`
	Aux          json.RawMessage `json:"aux,omitempty"`
}

// readStream decodes the engine's JSON message stream (build, pull, push),
// calling fn for each message, and returns the error the stream ends with.
func readStream(r io.Reader, fn func(message)) error {
	dec := json.NewDecoder(r)
	for {
		var m message
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("reading the engine's response: %w", err)
		}
		if m.Error != nil {
			return errors.New(m.Error.Message)
		}
		if m.ErrorMessage != "" {
			return errors.New(m.ErrorMessage)
		}
		fn(m)
	}
}

// lineSplitter turns the chunks of a build's output stream into whole lines.
type lineSplitter struct {
	partial string
	emit    func(string)
}

func (s *lineSplitter) write(chunk string) {
	s.partial += chunk
	for {
		i := strings.IndexByte(s.partial, '\n')
		if i < 0 {
			return
		}
		s.line(s.partial[:i])
		s.partial = s.partial[i+1:]
	}
}

func (s *lineSplitter) flush() {
	if s.partial != "" {
		s.line(s.partial)
		s.partial = ""
	}
}

func (s *lineSplitter) line(l string) {
	if l = strings.TrimRight(l, "\r "); l != "" {
		s.emit(l)
	}
}

// statusLine renders a pull or push status message as one line, or "" for
// the byte-count updates that only a live progress bar would show.
func statusLine(m message) string {
	if m.Status == "" || (m.Progress != nil && m.Progress.Total > 0) {
		return ""
	}
	if m.ID != "" {
		return m.ID + ": " + m.Status
	}
	return m.Status
}

package lock

import (
	"testing"
	"time"
)

func TestHolderLabels(t *testing.T) {
	since := time.Date(2026, 11, 22, 12, 0, 1, 123456789, time.FixedZone("CET", 3600))
	for _, h := range []Holder{
		{Host: "runner-3", User: "ci", PID: 4242, Command: "stack up --env prod", Since: since},
		{Host: "", User: "", PID: 0, Command: "", Since: time.Time{}},
	} {
		got := holderOf(h.labels("shop"))
		if got.Host != h.Host || got.User != h.User || got.PID != h.PID || got.Command != h.Command || !got.Since.Equal(h.Since) {
			t.Errorf("holderOf(labels(%+v)) = %+v", h, got)
		}
		if p := h.labels("shop")[labelProject]; p != "shop" {
			t.Errorf("project label %q, want shop", p)
		}
	}
}

func TestHolderString(t *testing.T) {
	h := Holder{Host: "runner-3", User: "ci", PID: 4242, Command: "stack up --env prod", Since: time.Date(2026, 11, 22, 13, 0, 1, 0, time.FixedZone("CET", 3600))}
	if got, want := h.String(), "ci@runner-3 (pid 4242): stack up --env prod, since 2026-11-22 12:00:01 UTC"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// Package progress defines the events that the engine, image builder and
// registry code report while they work. It never prints: the CLI renders
// events (live lines on a terminal, plain lines in CI, JSON with --progress json).
package progress

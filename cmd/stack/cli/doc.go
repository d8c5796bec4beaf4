// Package cli is stack's command line: one file per verb, each turning flags
// into an options struct and calling the engine. It is the only place that
// prints, renders progress events and chooses exit codes.
package cli

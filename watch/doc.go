// Package watch is the inner loop of `stack watch` and `up --watch`: it
// reads the services' develop.watch rules (the compose spec's), watches
// their paths with fsnotify (directories recursively, as Compose does),
// coalesces bursts of changes, and applies each batch as its rule says:
// sync the files into the running containers, sync then restart or exec,
// or rebuild and replace the service.
//
// It decides which files go where; it neither talks to an engine nor
// prints: the caller gives it the actions (Options) and renders the
// progress events it reports.
package watch

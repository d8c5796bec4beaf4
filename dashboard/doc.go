// Package dashboard is `stack dashboard`: a read-only web page, served by
// stack itself on a loopback address, that shows one project live. Its
// server follows the driver's capabilities (Lister for the services,
// StatsReader for CPU and memory, EventWatcher for the events feed,
// GatewayReader for the routes' rates, Logger for a log tail) and pushes what
// changes to the page as server-sent events; the page's files are embedded
// in the binary (no CDN).
//
// It changes nothing on the engine, prints nothing (the CLI prints the
// address), and answers only requests that carry the token it was started
// with and name a loopback host.
package dashboard

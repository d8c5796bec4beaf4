// Package web is the shop's front end: one page that talks to the APIs
// through the gateway.
package web

import (
	_ "embed"
	"net/http"
)

//go:embed index.html
var page []byte

// NewHandler serves the page at / and nothing else.
func NewHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	})
	return mux
}

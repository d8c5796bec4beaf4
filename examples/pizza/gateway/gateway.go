// Package gateway is the single entry point of the pizza shop: it routes
// each request by path prefix to the service that owns it.
package gateway

import (
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"
)

// Route sends every path under Prefix (the prefix itself and below) to
// Target; the path is passed on unchanged.
type Route struct {
	Name   string // the service, for error answers
	Prefix string // "/api/orders", or "/" for everything else
	Target *url.URL
}

// New returns a handler proxying by the longest matching prefix.
func New(routes []Route) http.Handler {
	mux := http.NewServeMux()
	for _, r := range routes {
		p := proxy(r)
		mux.Handle(r.Prefix, p)
		if r.Prefix != "/" {
			mux.Handle(r.Prefix+"/", p)
		}
	}
	return mux
}

func proxy(r Route) http.Handler {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(r.Target)
			pr.SetXForwarded()
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, fmt.Sprintf("%s is not answering: %v", r.Name, err), http.StatusBadGateway)
		},
	}
}

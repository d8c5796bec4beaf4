// Command gatewayapp is the service behind the gateway in the gateway's
// end-to-end tests, on :8080. /verify is a forward-auth endpoint: 200 with
// X-User: alice for "Authorization: Bearer good", 401 otherwise. Any other
// path answers "user=<X-User> path=<path>" after sleeping ?sleep=, reads
// the body, and logs "served METHOD PATH" (how a test tells that a refused
// request never arrived).
package main

import (
	"fmt"
	"io"
	"net/http"
	"time"
)

func main() {
	http.HandleFunc("/verify", func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("verify %s %s\n", r.Header.Get("X-Forwarded-Method"), r.Header.Get("X-Forwarded-Uri"))
		if r.Header.Get("Authorization") != "Bearer good" {
			http.Error(w, "who are you?", http.StatusUnauthorized)
			return
		}
		w.Header().Set("X-User", "alice")
	})
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if d, err := time.ParseDuration(r.URL.Query().Get("sleep")); err == nil {
			time.Sleep(d)
		}
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		fmt.Printf("served %s %s %d\n", r.Method, r.URL.Path, n)
		fmt.Fprintf(w, "user=%s path=%s\n", r.Header.Get("X-User"), r.URL.Path)
	})
	if err := http.ListenAndServe(":8080", nil); err != nil {
		fmt.Println(err)
	}
}

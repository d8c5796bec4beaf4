package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
)

// entry is the JSON body of every key answer.
type entry struct {
	Key   string `json:"key"`
	Value int64  `json:"value"`
}

// newHandler serves the key/value API:
//
//	POST /{key}   store a random number under key, answer it (201)
//	GET  /{key}   answer the number stored under key (404 if none)
//	GET  /healthz 200 when Redis answers, 503 when not
func newHandler(s Store, random func() int64) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := s.Ping(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("POST /{key}", func(w http.ResponseWriter, r *http.Request) {
		e := entry{Key: r.PathValue("key"), Value: random()}
		if err := s.Set(r.Context(), e.Key, strconv.FormatInt(e.Value, 10)); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		writeJSON(w, http.StatusCreated, e)
	})
	mux.HandleFunc("GET /{key}", func(w http.ResponseWriter, r *http.Request) {
		key := r.PathValue("key")
		v, ok, err := s.Get(r.Context(), key)
		switch {
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		case !ok:
			http.Error(w, fmt.Sprintf("no value for %q: POST /%s stores one", key, key), http.StatusNotFound)
			return
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			http.Error(w, fmt.Sprintf("value of %q is not a number: %q", key, v), http.StatusInternalServerError)
			return
		}
		writeJSON(w, http.StatusOK, entry{Key: key, Value: n})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// randomValue is the production source of values: 1 to 1,000,000.
func randomValue() int64 { return rand.Int64N(1_000_000) + 1 }

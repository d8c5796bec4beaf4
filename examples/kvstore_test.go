package examples_test

import (
	"net/http"
	"testing"
)

// TestKVStore: the kvstore example as its README runs it.
//
// Model: web (build: ., published port, depends_on redis service_healthy)
// reads only REDIS_HOST/REDIS_PORT; redis: image redis:7-alpine, no ports,
// a healthcheck and a named volume for /data.
//
//	stack up                     -> web built and answers; REDIS_HOST/PORT injected
//	POST /k, GET /k              -> the same number
//	stack up                     -> nothing recreated
//	stack down; stack up         -> GET /k still answers the number (the volume)
func TestKVStore(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	stack, project := example(t, "kvstore", "KVSTORE_PORT="+port)

	stack.MustRun(t, "up")
	env := stack.MustRun(t, "env", "web").Stdout
	mustContain(t, "stack env web", env, "REDIS_HOST=redis", "REDIS_PORT=6379")

	type entry struct {
		Key   string
		Value int64
	}
	var stored, read entry
	callJSON(t, "POST", endpoint(port, "/pizza"), "", http.StatusCreated, &stored)
	callJSON(t, "GET", endpoint(port, "/pizza"), "", http.StatusOK, &read)
	if stored.Value == 0 || read != stored {
		t.Fatalf("stored %+v, read back %+v", stored, read)
	}

	before := containers(t, project)
	stack.MustRun(t, "up")
	for svc, c := range containers(t, project) {
		if c.ID != before[svc].ID {
			t.Errorf("second up with nothing changed recreated %s", svc)
		}
	}

	stack.MustRun(t, "down")
	if n := len(containers(t, project)); n != 0 {
		t.Fatalf("after down: %d containers left", n)
	}
	stack.MustRun(t, "up")
	callJSON(t, "GET", endpoint(port, "/pizza"), "", http.StatusOK, &read)
	if read != stored {
		t.Errorf("after down and up: read %+v, want %+v (redis data on the volume)", read, stored)
	}
	if status, _ := call(t, "GET", endpoint(port, "/nope"), ""); status != http.StatusNotFound {
		t.Errorf("GET /nope = %d, want 404", status)
	}
}

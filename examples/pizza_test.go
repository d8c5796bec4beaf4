package examples_test

import (
	"net/http"
	"os/exec"
	"strings"
	"testing"
)

// TestPizza: the pizza shop, reached only through stack's gateway.
//
// Model: the gateway (published port) routes /api/messages, /api/orders and
// / to messages, orders and web; messages depends_on orders; all three built
// from one Dockerfile (build arg SERVICE), each with a healthcheck (the
// binary's -healthcheck) and a 32M memory limit; orders keeps its file on a
// named volume.
//
//	stack up                      -> the images built; / is the page, the APIs answer through the gateway;
//	                                 ps says which container receives which route;
//	                                 every container limited to 32M
//	POST /api/messages "order .." -> the bot placed the order via the orders API
//	up --no-deps --force-recreate web messages, a client asking every 20 ms
//	                              -> replaced start-first, no request lost
//	stack down; stack up          -> the order is still there
func TestPizza(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	stack, project := example(t, "pizza", "PIZZA_PORT="+port)

	stack.MustRun(t, "up")
	mustContain(t, "stack env messages", stack.MustRun(t, "env", "messages").Stdout, "ORDERS_HOST=orders", "ORDERS_PORT=8080")

	cs := containers(t, project)
	delete(cs, "") // the gateway, which is no service
	if len(cs) != 3 {
		t.Fatalf("containers by service: %v, want messages, orders, web", cs)
	}
	for svc, c := range cs {
		if c.HostConfig.Memory != 32<<20 {
			t.Errorf("%s: memory limit %d, want 32M", svc, c.HostConfig.Memory)
		}
		if c.State.Health == nil || c.State.Health.Status != "healthy" {
			t.Errorf("%s: health %+v after up, want healthy", svc, c.State.Health)
		}
	}
	mustContain(t, "stack ps", stack.MustRun(t, "ps").Stdout, project+"-gateway ", "/api/messages", "/api/orders")

	status, page := call(t, "GET", endpoint(port, "/"), "")
	if status != http.StatusOK {
		t.Fatalf("GET / through the gateway = %d", status)
	}
	mustContain(t, "the page", page, "<h1>Pizza</h1>")

	type message struct{ From, Text string }
	var reply message
	callJSON(t, "POST", endpoint(port, "/api/messages"), `{"text":"order diavola"}`, http.StatusOK, &reply)
	if reply.From != "bot" || reply.Text != `Order #1 placed: diavola. Say "status 1" to follow it.` {
		t.Errorf("bot reply = %+v", reply)
	}
	callJSON(t, "POST", endpoint(port, "/api/messages"), `{"text":"order hawaii"}`, http.StatusOK, &reply)
	mustContain(t, "bot reply to an order off the menu", reply.Text, `Sorry: no pizza "hawaii" on the menu`)

	type order struct {
		ID       int
		Pizza    string
		Quantity int
		Status   string
	}
	var placed order
	callJSON(t, "POST", endpoint(port, "/api/orders"), `{"pizza":"margherita","quantity":2}`, http.StatusCreated, &placed)
	want := []order{{1, "diavola", 1, "received"}, {2, "margherita", 2, "received"}}
	var list []order
	callJSON(t, "GET", endpoint(port, "/api/orders"), "", http.StatusOK, &list)
	if len(list) != 2 || list[0] != want[0] || list[1] != want[1] {
		t.Errorf("orders = %+v, want %+v", list, want)
	}
	var conversation []message
	callJSON(t, "GET", endpoint(port, "/api/messages"), "", http.StatusOK, &conversation)
	if len(conversation) != 4 {
		t.Errorf("conversation = %+v, want 2 questions and 2 answers", conversation)
	}

	// web and messages keep no data: replaced start-first, behind the gateway.
	client := startLoad(endpoint(port, "/"), endpoint(port, "/api/messages"))
	r := stack.MustRun(t, "up", "--no-deps", "--force-recreate", "web", "messages")
	if ok, failed, failures := client.stop(); failed > 0 || ok == 0 || strings.Count(r.Stderr, "start-first") < 2 {
		t.Errorf("redeploy of web and messages: %d requests failed, %d answered; want none failed, start-first:\n%s\n%s", failed, ok, failures, r.Stderr)
		gw, _ := exec.Command("docker", "logs", "--tail", "20", project+"-gateway").CombinedOutput()
		t.Logf("the gateway's log:\n%s", gw)
	}

	stack.MustRun(t, "down")
	stack.MustRun(t, "up")
	var one order
	callJSON(t, "GET", endpoint(port, "/api/orders/2"), "", http.StatusOK, &one)
	if one != want[1] {
		t.Errorf("after down and up: order 2 = %+v, want %+v (the orders volume)", one, want[1])
	}
}

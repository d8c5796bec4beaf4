# stack: `make help` lists the targets.
SHELL := /bin/bash
GO    ?= go
BIN   ?= bin/stack
PKGS  := ./...

.DEFAULT_GOAL := help

.PHONY: help
help: ## show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: build
build: ## build bin/stack (stack version prints VERSION: git describe)
	$(GO) build -ldflags "-X github.com/stack-deploy/stack/cmd/stack/cli.version=$(VERSION)" -o $(BIN) ./cmd/stack

.PHONY: engine
engine: ## make sure a Docker engine answers (installs docker.io as root on Debian if absent), with the stand-in images
	scripts/engine.sh
	scripts/standin-images.sh

.PHONY: tools
tools: ## what the tests and benchmarks drive besides the engine: tmux, and docker compose (built from the Go module proxy)
	scripts/tools.sh
	scripts/compose.sh

.PHONY: swarm-lab
swarm-lab: engine ## start the 3-node Docker Swarm the Swarm tests use (scripts/swarm-lab.sh; reused while up)
	scripts/swarm-lab.sh up 3 >/dev/null

.PHONY: swarm-lab-down
swarm-lab-down: ## remove the Swarm lab and everything it made
	scripts/swarm-lab.sh down

.PHONY: engine-29
engine-29: engine ## start Docker 29 (containerd 2, runc; built from the Go module proxy, cached in /var/cache/stack-labs) beside the main engine (scripts/engine-29.sh; reused while up)
	scripts/engine-29.sh up >/dev/null

.PHONY: engine-29-down
engine-29-down: ## remove engine 29 and everything it made (the cached binaries stay)
	scripts/engine-29.sh down

.PHONY: kube-lab
kube-lab: engine ## start the one-node Kubernetes the Kubernetes tests use (scripts/kube-lab.sh; reused while up; the first start builds it, ~10 min)
	scripts/kube-lab.sh up >/dev/null

.PHONY: kube-lab-down
kube-lab-down: ## remove the Kubernetes lab and everything it made (the built binaries stay cached)
	scripts/kube-lab.sh down

.PHONY: test
test: engine tools swarm-lab engine-29 kube-lab ## every test: unit and end-to-end on the main engine, registries, a Swarm and a one-node Kubernetes; then the end-to-end packages on engine 29 (scripts/test-engines.sh: a watchdog fails a pass whose engine wedges)
	TEST_PKGS="$(PKGS)" scripts/test-engines.sh all

.PHONY: unit
unit: ## unit tests only (no engine)
	$(GO) test -short -count=1 $(PKGS)

.PHONY: lint
lint: ## gofmt, go vet, and staticcheck when installed
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	@if command -v staticcheck >/dev/null; then echo staticcheck $(PKGS); staticcheck $(PKGS); \
	else echo "staticcheck not installed: go install honnef.co/go/tools/cmd/staticcheck@latest"; fi

.PHONY: fmt
fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')

.PHONY: bench
bench: engine tools swarm-lab engine-29 kube-lab ## benchmarks that print time and memory figures beside the anchors: Docker Compose (COMPOSE=binary, else docker compose), the raw Engine API, docker stack deploy on the Swarm lab, kompose + kubectl on the Kubernetes lab; then the 30-service DAG on engine 29
	scripts/kompose.sh >/dev/null
	$(GO) test -run '^$$' -bench . -benchmem -count=1 -timeout 30m $(PKGS)
	eval "$$(scripts/engine-29.sh env)" && $(GO) test -run '^$$' -bench 'LayeredDAG$$' -benchmem -count=1 -timeout 30m ./engine/docker/

FUZZTIME ?= 3m
.PHONY: fuzz
fuzz: ## fuzz the manifest loader for FUZZTIME (3m); crashers land in manifest/testdata/fuzz
	$(GO) test -run '^$$' -fuzz FuzzLoad -fuzztime $(FUZZTIME) ./manifest/

.PHONY: compose-compare
compose-compare: ## diff stack config with docker compose config on the corpus (COMPOSE=path/to/docker-compose)
	manifest/testdata/corpus/compare-compose.sh

.PHONY: demo
demo: engine build ## run the kvstore example: stack up, store and read a key
	examples/kvstore/demo.sh

# hvmigrate: two commands on a fresh Debian machine with Go:
#   make demo   runs the main job end to end
#   make test   runs every check CI runs
# Both install what they need first (scripts/install-deps.sh).

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

export PATH := $(CURDIR)/tools/npm/node_modules/.bin:/usr/local/go/bin:$(PATH)

BINARIES := hvm-agent hvm-provider hvm-hub hvmctl hvm-simhost hvm-azurite
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X hvmigrate/shared/version.release=$(VERSION)
GOTEST_TIMEOUT ?= 30m

.PHONY: integration all deps build generate check-generate lint fmt-check vet test unit windows fuzz-short bench demo clean setup packages check-packages

all: build

deps: ## install Debian packages, pinned npm tools and Go modules
	@scripts/install-deps.sh

build: ## build every binary into bin/
	@mkdir -p bin
	go build -trimpath -ldflags '$(LDFLAGS)' -o bin/hvm-agent ./agent/cmd/hvm-agent
	go build -trimpath -ldflags '$(LDFLAGS)' -o bin/hvm-provider ./provider/cmd/hvm-provider
	go build -trimpath -ldflags '$(LDFLAGS)' -o bin/hvm-hub ./hub/cmd/hvm-hub
	go build -trimpath -ldflags '$(LDFLAGS)' -o bin/hvmctl ./hub/cmd/hvmctl
	go build -trimpath -ldflags '$(LDFLAGS)' -o bin/hvm-simhost ./integration/simhost/cmd/hvm-simhost
	go build -trimpath -ldflags '$(LDFLAGS)' -o bin/hvm-azurite ./integration/azurite/cmd/hvm-azurite
	@VERSION='$(VERSION)' scripts/packages.sh setup

setup: ## bin/hvm-setup, carrying freshly built hvm-provider and hvm-agent
	@VERSION='$(VERSION)' scripts/packages.sh setup

packages: ## the .deb and the .msi into dist/
	@VERSION='$(VERSION)' scripts/packages.sh

check-packages: ## build both packages and check their contents
	@scripts/check-packages.sh

generate: ## regenerate Go code from proto/
	buf generate

check-generate: ## fail if shared/gen does not match proto/
	@scripts/check-generate.sh

fmt-check:
	@out=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	go vet ./...
	go vet -tags integration ./integration/...

lint: fmt-check vet ## gofmt, go vet, buf lint and buf format
	buf lint
	buf format --diff --exit-code

unit: ## go test -race over the module, every external-tool skip turned into a failure
	HVM_TEST_NOSKIP=1 go test -race -timeout $(GOTEST_TIMEOUT) ./...

integration: ## the end-to-end suites: the whole system as real processes (LONG=1 for the long mode)
	HVM_TEST_NOSKIP=1 go test -tags integration -count=1 -v -timeout 45m ./integration/e2e/ 2>&1 | \
		grep -vE 'testing\.go:[0-9]+: azurite:' ; exit $${PIPESTATUS[0]}

windows: ## the Windows build compiles
	GOOS=windows GOARCH=amd64 go build ./...

fuzz-short: ## every fuzz target for a short run
	@scripts/fuzz-short.sh

test: deps lint check-generate unit windows fuzz-short check-packages integration ## everything CI runs

bench: deps ## benchmark scripts; each prints its figures beside a baseline from the same run
	@for b in bench/*.sh; do [ -x "$$b" ] || continue; echo "== $$b"; "$$b"; done

demo: deps build ## the main job, end to end
	@scripts/demo.sh

clean:
	rm -rf bin dist

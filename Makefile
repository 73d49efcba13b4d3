# ctpdesk — every day-to-day command. `make help` lists them; CI runs `make test` through .ci/run.

# Go 1.26.8 on these machines has standard-library advisories fixed in 1.26.10; the go command
# fetches that toolchain from the module proxy once.
export GOTOOLCHAIN := go1.26.10

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X ctpdesk/internal/cli.Version=$(VERSION)
GO      ?= go
TEMPL   ?= $(GO) tool templ

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this list of targets.
	@awk -f scripts/make-help.awk $(MAKEFILE_LIST)

.PHONY: run
run: ## Run the whole dashboard with everything embedded on http://localhost:8080.
	@echo "ctpdesk: building (the first build on a fresh machine downloads modules and compiles for a minute or two)..."
	@$(GO) build -ldflags "-X ctpdesk/internal/cli.Version=$(VERSION)" -o bin/ctpdesk-dev .
	@# exec: Ctrl-C reaches ctpdesk, which drains and exits 0, so make reports no error.
	@exec bin/ctpdesk-dev dev

.PHONY: build
build: ## Build bin/ctpdesk with the version stamped in.
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/ctpdesk .

.PHONY: generate
generate: ## Regenerate the templ components (*_templ.go, committed).
	$(TEMPL) generate

# --- make lint: every static check, cheapest first ----------------------------------------

.PHONY: lint
lint: fmt-check templ-fmt-check check-generated tidy-check vet staticcheck deploycheck vulncheck ## Every static check, in this order:

.PHONY: fmt-check
fmt-check: ## Fail when gofmt would change a committed .go file.
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# templ fmt -fail rewrites the files it fails on, so each file is formatted to stdout instead
# and compared: the check changes nothing.
.PHONY: templ-fmt-check
templ-fmt-check: ## Fail when templ fmt would change a committed .templ file.
	@bad=""; for f in $$(git ls-files '*.templ'); do \
		$(TEMPL) fmt -log-level error -stdout "$$f" | cmp -s - "$$f" || bad="$$bad $$f"; done; \
	if [ -n "$$bad" ]; then echo "templ fmt would change (run 'go tool templ fmt .', then 'make generate'):"; \
		for f in $$bad; do echo "  $$f"; done; exit 1; fi

.PHONY: check-generated
check-generated: ## Fail when the committed *_templ.go files are stale.
	@$(TEMPL) generate -log-level error
	@if [ -n "$$(git status --porcelain -- '*_templ.go')" ]; then \
		echo "templ: generated files are stale; run 'make generate' and commit them:"; \
		git status --porcelain -- '*_templ.go'; exit 1; fi

# go mod tidy -diff prints the diff on stdout; any output there fails, and so does an error.
# Its stderr (download progress on a fresh machine) is not a diff.
.PHONY: tidy-check
tidy-check: ## Fail when go mod tidy would change go.mod or go.sum.
	@out=$$($(GO) mod tidy -diff); rc=$$?; \
	if [ -n "$$out" ]; then echo "go.mod/go.sum are not tidy; run 'go mod tidy':"; echo "$$out"; exit 1; fi; \
	if [ $$rc -ne 0 ]; then echo "tidy-check: go mod tidy -diff failed (exit $$rc)"; exit 1; fi

.PHONY: vet
vet: ## go vet ./...
	$(GO) vet ./...

.PHONY: staticcheck
staticcheck: ## staticcheck ./... (the version pinned in go.mod).
	$(GO) tool staticcheck ./...

.PHONY: deploycheck
deploycheck: ## Validate deploy/k8s (strict k8s.io/api schema + our rules) and deploy/Dockerfile.
	$(GO) run ./tools/deploycheck -k8s deploy/k8s -dockerfile deploy/Dockerfile

# The vulndb version pin and the update instructions live in scripts/govulncheck.sh; the
# reviewed exceptions in scripts/govulncheck.allow. Exit 2 means no database could be built.
# The database is built once per pin under .cache/vulndb/.
.PHONY: vulncheck
vulncheck: ## govulncheck ./... against the pinned Go vulnerability database, built offline.
	@bash scripts/govulncheck.sh

# --- end of make lint -------------------------------------------------------------------------

.PHONY: test
test: lint ## Lint, then every test with the race detector (browser and PostgreSQL tests included).
	$(GO) test -race -count=1 -timeout 30m ./...

.PHONY: test-short
test-short: ## Unit tests only, fast, no race detector.
	$(GO) test -short -count=1 ./...

BENCH_COUNT ?= 5
BENCH_TIME  ?= 1s
# Search and resident memory are measured at a million customers; the seeded SQLite file is
# cached between runs (the first run writes it, about a minute), and every later run only reads
# it. -p 1 runs one package's benchmarks at a time, so no two compete for the two cores; the
# 1M runs (signed-in search per kind and from 16 clients, 200 connections for 15 s per count,
# the pread/mmap comparison) add about ten minutes at BENCH_COUNT=5.
# Set CTPDESK_BENCH_POSTGRES_URL (or CTPDESK_TEST_POSTGRES_URL) to measure PostgreSQL too.
# The long-tail surname portfolio (200,000 customers, PostgreSQL only) is kept in a database
# beside CTPDESK_BENCH_POSTGRES_URL's, loaded by the first run in about 40 s; with
# CTPDESK_TEST_POSTGRES_URL alone each count loads it afresh.
export CTPDESK_BENCH_CUSTOMERS ?= 1000000

.PHONY: bench
bench: ## Run every benchmark BENCH_COUNT times; print the medians and write docs/PERFORMANCE.md.
	@mkdir -p .cache
	$(GO) test -p 1 -run '^$$' -bench . -benchmem -count $(BENCH_COUNT) -benchtime $(BENCH_TIME) -timeout 90m ./... | tee .cache/bench.txt
	$(GO) run ./tools/benchreport -i .cache/bench.txt -o docs/PERFORMANCE.md -readme README.md

LOADTEST_FLAGS ?=

.PHONY: loadtest
loadtest: ## Whole dev dashboard in-process: 200 signed-in users for 2 min on loopback; checks budgets and the audit trail; writes docs/LOADTEST.md.
	$(GO) run ./tools/loadtest --users 200 --duration 2m --report docs/LOADTEST.md $(LOADTEST_FLAGS)

.PHONY: loadtest-fault
loadtest-fault: ## The fault run: under load, D1 answers 20% 503s, is down (30 s, until the breaker opens), then answers in 2 s.
	$(GO) run ./tools/loadtest --users 200 --fault $(LOADTEST_FLAGS)

.PHONY: screenshots
screenshots: ## Take every screen in Chromium (artifacts/) and refresh the README's screenshot.
	CTPDESK_UPDATE_SCREENSHOTS=1 $(GO) test -count=1 -run TestUITourInChromium ./e2e

.PHONY: clean
clean: ## Remove build outputs, dev data and test artifacts.
	rm -rf bin data artifacts .cache

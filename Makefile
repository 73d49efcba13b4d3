# ctpdesk — every day-to-day command. `make help` lists them; CI runs `make test` through .ci/run.

# Go 1.26.8 on these machines has standard-library advisories fixed in 1.26.10; the go command
# fetches that toolchain from the module proxy once.
export GOTOOLCHAIN := go1.26.10

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X ctpdesk/internal/cli.Version=$(VERSION)
GO      ?= go

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this list of targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: run
run: ## Run the whole dashboard with everything embedded on http://localhost:8080.
	$(GO) run -ldflags "-X ctpdesk/internal/cli.Version=$(VERSION)" . dev

.PHONY: build
build: ## Build bin/ctpdesk with the version stamped in.
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/ctpdesk .

.PHONY: generate
generate: ## Regenerate the templ components (*_templ.go, committed).
	$(GO) tool templ generate

.PHONY: check-generated
check-generated: ## Fail when the committed *_templ.go files are stale.
	@$(GO) tool templ generate >/dev/null
	@if [ -n "$$(git status --porcelain -- '*_templ.go')" ]; then \
		echo "templ: generated files are stale; run 'make generate' and commit them:"; \
		git status --porcelain -- '*_templ.go'; exit 1; fi

.PHONY: fmt-check
fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

.PHONY: lint
lint: fmt-check check-generated deploycheck ## gofmt, go vet, staticcheck, templ freshness and govulncheck.
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

# --- deploy/ and govulncheck checks -----------------------------------------------------------

.PHONY: deploycheck
deploycheck: ## Validate deploy/k8s (strict k8s.io/api schema + our rules) and deploy/Dockerfile.
	$(GO) run ./tools/deploycheck -k8s deploy/k8s -dockerfile deploy/Dockerfile

# The vulndb version pin and the update instructions live in scripts/govulncheck.sh; the
# reviewed exceptions in scripts/govulncheck.allow. Exit 2 means no database could be built.
.PHONY: vulncheck
vulncheck: ## govulncheck ./... against an offline copy of the Go vulnerability database.
	bash scripts/govulncheck.sh

# --- end of deploy/ and govulncheck checks ----------------------------------------------------

.PHONY: test
test: lint ## Lint, then every test with the race detector (browser and PostgreSQL tests included).
	$(GO) test -race -count=1 -timeout 30m ./...

.PHONY: test-short
test-short: ## Unit tests only, fast, no race detector.
	$(GO) test -short -count=1 ./...

BENCH_COUNT ?= 5
BENCH_TIME  ?= 1s
# Search is measured at a million customers; the seeded SQLite file is cached between runs.
# Set CTPDESK_BENCH_POSTGRES_URL (or CTPDESK_TEST_POSTGRES_URL) to measure PostgreSQL too.
export CTPDESK_BENCH_CUSTOMERS ?= 1000000

.PHONY: bench
bench: ## Run every benchmark BENCH_COUNT times; print the medians and write docs/PERFORMANCE.md.
	@mkdir -p .cache
	$(GO) test -run '^$$' -bench . -benchmem -count $(BENCH_COUNT) -benchtime $(BENCH_TIME) -timeout 60m ./... | tee .cache/bench.txt
	$(GO) run ./tools/benchreport -i .cache/bench.txt -o docs/PERFORMANCE.md

LOADTEST_FLAGS ?=

.PHONY: loadtest
loadtest: ## Whole dev dashboard in-process: 200 signed-in users for 2 min on loopback; checks budgets and the audit trail.
	$(GO) run ./tools/loadtest --users 200 --duration 2m $(LOADTEST_FLAGS)

.PHONY: loadtest-fault
loadtest-fault: ## The fault run: under load, D1 answers 20% 503s, is down for 30 s, then answers in 2 s.
	$(GO) run ./tools/loadtest --users 200 --fault $(LOADTEST_FLAGS)

.PHONY: screenshots
screenshots: ## Take every screen in Chromium (artifacts/) and refresh the README's screenshot.
	CTPDESK_UPDATE_SCREENSHOTS=1 $(GO) test -count=1 -run TestUITourInChromium ./e2e

.PHONY: clean
clean: ## Remove build outputs, dev data and test artifacts.
	rm -rf bin data artifacts .cache

# Forkwatch. `make run` starts the menu-bar app (the terminal `watch` mode
# where there is no desktop); `make test` runs every check CI runs.

GO       ?= go
BIN      := bin/forkwatch
VERSION  := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)
# Fuzz budgets are counts of runs, not durations: with a duration, Go's
# fuzzing coordinator (1.26 here) can fail a clean run with a bare "context
# deadline exceeded" when the deadline fires while a worker is busy
# (golang/go#75804: stop() in src/internal/fuzz/fuzz.go lets through only
# the workers' context's error, and that context is cancelled a moment
# after the deadline's). A count has no deadline to race, and it bounds the
# minimizing of new inputs too.
FUZZTIME ?= 200000x
FUZZMINIMIZE ?= 20000x
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.7.0
ACTIONLINT  := github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
TAG      ?= v1.2.3

.PHONY: all build run test deps vet lint cross-vet actionlint darwin-test-compile unit fuzz bench app release-check release-dry-run clean

all: build

# deps installs what cgo needs for the tray on Linux (as root with apt), or
# says what to install; on macOS Xcode's Command Line Tools have it all.
deps:
	@build/deps.sh

build: deps
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./app

# Exit code 3 from the app means "no desktop here": fall back to watch (the
# app has said so in its one line). ARGS go to both, e.g.
# make run ARGS="--reports-dir ~/reports".
ARGS ?=
# The build says what it is doing when it takes more than a few seconds (a
# first build compiles the SQLite driver and the tray's C code: minutes on
# a fresh machine), then how long it took.
run: deps
	@start=$$(date +%s); \
	( sleep 3; echo "make run: building $(BIN) (go build ./app); a first build compiles the SQLite driver and the tray's C code and takes minutes, later ones seconds"; \
	  while sleep 30; do echo "make run: still building ($$(( $$(date +%s) - start ))s so far)"; done ) & ticker=$$!; \
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./app; s=$$?; \
	kill $$ticker 2>/dev/null; wait $$ticker 2>/dev/null; \
	if [ $$s -ne 0 ]; then echo "make run: the build failed" >&2; exit $$s; fi; \
	echo "make run: built $(BIN) in $$(( $$(date +%s) - start ))s; starting it"; \
	$(BIN) $(ARGS); s=$$?; \
	if [ $$s -eq 3 ]; then exec $(BIN) watch $(ARGS); fi; \
	exit $$s

test: deps vet lint cross-vet actionlint darwin-test-compile unit

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi
	$(GO) vet ./...

# staticcheck, pinned, fetched through the Go module proxy, for this system
# and for both halves of the macOS universal binary (files built only on
# darwin, or only off it, are checked where they build: code used only on
# one side is reported unused on the other). It is built once for this
# machine (`go run` with GOOS=darwin would build a darwin binary), then run
# with GOOS/GOARCH set. Vet for macOS comes with it (cross-vet).
lint: cross-vet
	@d=$$(mktemp -d); trap 'rm -rf "$$d"' EXIT; \
	GOBIN="$$d" GOOS= GOARCH= $(GO) install $(STATICCHECK) && \
	"$$d/staticcheck" ./... && \
	GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 "$$d/staticcheck" ./... && \
	GOOS=darwin GOARCH=amd64 CGO_ENABLED=0 "$$d/staticcheck" ./... && \
	echo "lint: staticcheck passes for $$($(GO) env GOOS)/$$($(GO) env GOARCH), darwin/arm64 and darwin/amd64"

# Everything but the systray binding must build for macOS without cgo, on
# both architectures of the universal binary.
cross-vet:
	GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 $(GO) vet ./...
	GOOS=darwin GOARCH=amd64 CGO_ENABLED=0 $(GO) vet ./...

# The workflows, which run nowhere but on GitHub: actionlint, pinned,
# through the Go module proxy (it runs shellcheck on the run: scripts when
# shellcheck is installed).
actionlint:
	$(GO) run $(ACTIONLINT)

# Every package's tests must compile for macOS, where CI runs them with cgo.
# Here without cgo: app's systray binding then builds from its cgo-less twin
# (app/tray/binding_nocgo.go), which is what lets app's tests compile too.
darwin-test-compile:
	@d=$$(mktemp -d); trap 'rm -rf "$$d"' EXIT; \
	GOOS=darwin GOARCH=arm64 CGO_ENABLED=0 $(GO) test -c -o "$$d/" ./... && \
	echo "darwin-test-compile: the tests of every package compile for darwin/arm64 ($$(ls "$$d" | wc -l) test binaries)"

# The tests, with the race detector; build/testtimes prints what go test
# would and then the ten slowest packages and tests, so a slow test shows
# the day it comes. The run's exit code is kept through the pipe.
unit:
	@d=$$(mktemp -d); trap 'rm -rf "$$d"' EXIT; \
	{ $(GO) test -race -count=1 -json ./... 2>&1; echo $$? > "$$d/rc"; } | $(GO) run ./build/testtimes; s=$$?; \
	test "$$(cat "$$d/rc")" = 0 && test $$s = 0

# Each fuzz target for FUZZTIME runs (a count; see above).
FUZZ = $(GO) test -run '^$$' -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) -fuzz
fuzz:
	$(FUZZ) '^FuzzParseIPS$$' ./monitor/report
	$(FUZZ) '^FuzzParseCrash$$' ./monitor/report
	$(FUZZ) '^FuzzPlainObjectAgreesWithJSON$$' ./monitor/report
	$(FUZZ) '^FuzzReportTime$$' ./monitor/report
	$(FUZZ) '^FuzzBlockRoundTrip$$' ./settings
	$(FUZZ) '^FuzzParseRecord$$' ./monitor/forktrace
	$(FUZZ) '^FuzzParsePS$$' ./settings/doctor
	$(FUZZ) '^FuzzParseCodesign$$' ./settings/doctor

# Benchmarks with real runs, each a ratio against its peer measured in the
# same run: sweep vs grep (median of 7 pairs), the watcher's latency, idle
# cost, burst and start-up figures, and the fork tracer against no tracer
# (interleaved runs; medians). Each prints the load average it ran under.
bench: deps
	@echo "bench: load average $$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)"
	$(GO) test -run '^$$' -bench 'SweepVsGrep' -benchtime 7x ./monitor
	$(GO) test -run '^$$' -bench 'Watch' -benchtime 1x -timeout 20m ./app
	$(GO) test -run '^$$' -bench 'HistoryDB|HistoryListing' -benchtime 1x -timeout 20m ./app
	$(GO) test -run '^$$' -bench 'DetectLatency' -benchtime 1x ./monitor/history
	$(GO) test -run '^$$' -bench 'Attribute' -benchtime 5000x ./monitor/attribute
	$(GO) test -run '^$$' -bench 'Tracer' -benchtime 1x -timeout 20m ./monitor/forktrace

# Forkwatch.app (on Linux: everything but lipo and codesign, which need macOS).
app:
	$(GO) run ./build app -version $(VERSION)

# The bundle layout, the Info.plist keys and the entitlements file, and the
# zip, checksum and cask of a v0.0.0-check build (builds the bundle; runs
# anywhere).
release-check:
	$(GO) run ./build release-check

# The release of TAG rehearsed on any machine: the bundle (cross-built, not
# signed), the zip with the commit's time, the cask, and the checks that
# its version, URL and sha256 agree with the tag and the zip (and ruby -c).
release-dry-run:
	$(GO) run ./build release-dry-run -tag $(TAG)

clean:
	rm -rf bin dist

# minidocker — build, run, test.
#   sudo make run    build, make the default image if missing, open the terminal UI
#   sudo make test   install what the tests need, then run every test
#   sudo make bench  the benchmarks, and whole-process figures against other tools

GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
BIN := bin/minidocker
# What the build needs, and the Debian packages that bring it: cgo's C
# compiler (without it Go silently builds a minidocker that cannot exec or
# prefork), and libseccomp's headers for the seccomp filter.
BUILD_DEPS := gcc:gcc pkg-config:pkg-config /usr/include/seccomp.h:libseccomp-dev
# Programs the tests drive, and the Debian packages that bring them.
TOOLS := skopeo:skopeo umoci:umoci busybox:busybox-static tmux:tmux crun:crun runc:runc /usr/bin/time:time buildah:buildah docker-registry:docker-registry podman:podman
FUZZTIME ?= 10s
export PATH := $(PATH):/usr/local/go/bin:/usr/sbin:/sbin

.PHONY: all build builddeps run test deps vet unit fuzz bench clean screenshots

all: build

# install installs the Debian packages of the NAME:PACKAGE pairs whose NAME
# (a command, or a file's path) is missing: apt-get update once, then one install.
define install
	@missing=""; for t in $(1); do \
		n=$${t%%:*}; command -v $$n >/dev/null 2>&1 || test -e $$n || missing="$$missing $${t#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

builddeps:
	$(call install,$(BUILD_DEPS))

build: builddeps
	CGO_ENABLED=1 $(GO) build -o $(BIN) .

run: build
	./$(BIN) image create-base --if-missing >/dev/null
	./$(BIN)

# deps installs what the build and the tests need and is missing.
deps:
	$(call install,$(BUILD_DEPS) $(TOOLS))

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...

unit:
	CGO_ENABLED=1 $(GO) test -count=1 -timeout 20m ./...

# Short fuzz runs of every fuzz target; the seeds live in each package's testdata/.
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) bash scripts/fuzz.sh

test: deps build vet unit fuzz

bench: deps build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	bash scripts/bench.sh
	bash scripts/run-figures.sh
	bash scripts/build-figures.sh
	bash scripts/pull-figures.sh

clean:
	rm -rf bin

# screenshots remakes the README's pictures in assets/ from the real binary: a
# container in a temporary store, the UI driven in tmux, each screen rendered
# to PNG (scripts/screenshots, a module of its own). Needs root and tmux.
screenshots:
	@command -v tmux >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux >/dev/null; }
	cd scripts/screenshots && $(GO) run . -repo ../.. -out ../../assets

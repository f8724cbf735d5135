# VMemLab: the two commands of the README, and a few more.
#   make reproduce   run every published reproduction, writing results/
#   make test        run the whole test suite
#   make bench       run the benchmarks (package-benchmark, release build)

SWIFT ?= swift
OUT ?= results

.PHONY: all deps build reproduce reproduce-quick test bench clean

all: build

deps:
	scripts/install-deps.sh

build: deps
	$(SWIFT) build -c release --product vmemlab

reproduce: build
	.build/release/vmemlab reproduce --all --out $(OUT)

reproduce-quick: build
	.build/release/vmemlab reproduce --all --quick --out $(OUT)

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

bench: deps
	cd Benchmarks && $(SWIFT) package benchmark

clean:
	rm -rf .build Benchmarks/.build

# VMemLab: the two commands of the README, and a few more.
#   make reproduce   run every published reproduction, writing results/ and results/figures/
#   make test        run the whole test suite, notebooks included
#   make bench       run the benchmarks (package-benchmark, release build)
#   make figures     redraw results/figures/ from results/*.csv

SWIFT ?= swift
OUT ?= results

.PHONY: all deps build reproduce reproduce-quick figures test bench clean

all: build

deps:
	scripts/install-deps.sh

build: deps
	$(SWIFT) build -c release --product vmemlab

reproduce: build
	.build/release/vmemlab reproduce --all --out $(OUT)
	VMEMLAB_RESULTS=$(abspath $(OUT)) VMEMLAB_FIGURES=$(abspath $(OUT))/figures scripts/run-notebooks.sh

reproduce-quick: build
	.build/release/vmemlab reproduce --all --quick --out $(OUT)

figures:
	VMEMLAB_RESULTS=$(abspath $(OUT)) VMEMLAB_FIGURES=$(abspath $(OUT))/figures scripts/run-notebooks.sh

# The notebooks run twice: on the committed results (figures go to a scratch
# directory, so the tree stays clean) and on the synthetic fixtures, where
# every figure must be drawn.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	VMEMLAB_FIGURES=$$(mktemp -d) scripts/run-notebooks.sh
	scripts/run-notebooks.sh --check-drawing

bench: deps
	cd Benchmarks && $(SWIFT) package benchmark

clean:
	rm -rf .build Benchmarks/.build

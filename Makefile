# Two commands set everything up on a fresh Debian 12 machine:
#   make demo      installs missing packages, builds (Release), runs the default scene, draws its figures
#   make test      installs missing packages (viewers included), builds, runs every test
# Reliability (CI runs both after make test):
#   make sanitize  every test on an AddressSanitizer + UndefinedBehaviorSanitizer build (CUDA off)
#   make fuzz      the scene fuzzer (clang libFuzzer + ASan/UBSan) for FUZZ_SECONDS (default 120)
# For machines without the Debian packages (GPU servers, no root):
#   make bundle    dist/dosemap-<version>-linux-x86_64.tar.xz, relocatable, then checked
BUILD_DIR ?= build
SANITIZE_DIR ?= build-sanitize
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 120
JOBS      ?= $(shell nproc)
DEMO_SCENE = scenes/operando_pouch_27keV.toml
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release
# Any sanitizer report ends the process with an error; leaks are reported too.
SANITIZER_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=1 \
                UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
                LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/lsan.supp:print_suppressions=0

.PHONY: all setup configure build demo test sanitize fuzz bench bench-gpu bench-viewers bundle clean

all: build

setup:
	tools/setup --viz

configure: setup
	cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	$(BUILD_DIR)/dosemap check $(DEMO_SCENE)
	$(BUILD_DIR)/dosemap run $(DEMO_SCENE) -o out/demo --overwrite
	$(BUILD_DIR)/dosemap plot out/demo
	@echo
	@echo "Demo results in out/demo/: dose.vdb (Blender), dose.vti + dose.pvd (ParaView), summary.json, figures (*.png)."
	@echo "See README, 'Look at the results', for ParaView and Blender."

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

sanitize: setup
	cmake -S . -B $(SANITIZE_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDOSEMAP_SANITIZE=ON -DDOSEMAP_CUDA=OFF
	cmake --build $(SANITIZE_DIR) -j $(JOBS)
	$(SANITIZER_ENV) ctest --test-dir $(SANITIZE_DIR) --output-on-failure -j $(JOBS)

fuzz: setup
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDOSEMAP_FUZZ=ON \
	  -DDOSEMAP_CUDA=OFF -DBUILD_TESTING=OFF
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target dosemap_scene_fuzzer
	$(SANITIZER_ENV) tools/fuzz-scenes $(FUZZ_DIR) $(FUZZ_SECONDS)

bench: build
	cmake --build $(BUILD_DIR) -j $(JOBS) --target dosemap_bench
	benchmarks/run_benchmarks.sh $(BUILD_DIR)

# On a machine with an NVIDIA GPU (H100/H200): copy bandwidth, GPU march and transport,
# speed-up over the CPU backend. Figures go to benchmarks/RESULTS.md with the device name.
# The viewers at real scale: the coin-cell map run, plotted, drawn by ParaView and Blender
# (wall time and peak memory of each; figures in benchmarks/RESULTS.md).
bench-viewers: build
	benchmarks/viewers_at_scale.sh $(BUILD_DIR)

bench-gpu: build
	cmake --build $(BUILD_DIR) -j $(JOBS) --target dosemap_gpu_bench
	$(BUILD_DIR)/dosemap_gpu_bench

# Release build (the CUDA backend when nvcc is present), the tests and benchmarks, bundled with
# every shared library they need but glibc and the GPU driver (tools/make-bundle), then the
# archive checked in an empty directory and a bare environment (tools/check-bundle).
bundle: build
	cmake --build $(BUILD_DIR) -j $(JOBS) --target bundle

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_DIR) $(FUZZ_DIR)

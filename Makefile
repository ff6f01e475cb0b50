# Two commands set everything up on a fresh Debian 12 machine:
#   make demo   installs missing packages, builds (Release), runs the default scene, draws its figures
#   make test   installs missing packages (viewers included), builds, runs every test
BUILD_DIR ?= build
JOBS      ?= $(shell nproc)
DEMO_SCENE = scenes/operando_pouch_27keV.toml
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: all setup configure build demo test bench bench-gpu clean

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

bench: build
	cmake --build $(BUILD_DIR) -j $(JOBS) --target dosemap_bench
	benchmarks/run_benchmarks.sh $(BUILD_DIR)

# On a machine with an NVIDIA GPU (H100/H200): copy bandwidth, GPU march and transport,
# speed-up over the CPU backend. Figures go to benchmarks/RESULTS.md with the device name.
bench-gpu: build
	cmake --build $(BUILD_DIR) -j $(JOBS) --target dosemap_gpu_bench
	$(BUILD_DIR)/dosemap_gpu_bench

clean:
	rm -rf $(BUILD_DIR)

# Two commands set everything up on a fresh Debian 12 machine:
#   make demo   installs missing packages, builds (Release), runs the default scene
#   make test   installs missing packages, builds, runs every test
BUILD_DIR ?= build
JOBS      ?= $(shell nproc)
DEMO_SCENE = scenes/operando_pouch_27keV.toml
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: all setup configure build demo test clean

all: build

setup:
	tools/setup

configure: setup
	cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	$(BUILD_DIR)/dosemap check $(DEMO_SCENE)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD_DIR)

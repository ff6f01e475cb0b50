#include <iostream>

#include "host/cli/cli.h"
#include "host/common/interrupts.h"

int main(int argc, char** argv) {
  // First, before any thread exists: Ctrl-C and SIGTERM then clean up what a run started.
  dosemap::install_interrupt_handling();
  return dosemap::run_cli(argc, argv, std::cout, std::cerr);
}

#include <malloc.h>

#include <iostream>

#include "host/cli/cli.h"
#include "host/common/interrupts.h"

int main(int argc, char** argv) {
  // First, before any thread exists: Ctrl-C and SIGTERM then clean up what a run started.
  dosemap::install_interrupt_handling();
  // Every allocation of 1 MiB or more is its own mapping, returned to the system when freed.
  // glibc's default raises this threshold after each large free, so a run's later phases
  // (histories rebuilt for the per-visit table, the writer) piled onto heap memory that the
  // earlier ones freed but the process kept: the peak the memory estimate promises would
  // not hold.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  return dosemap::run_cli(argc, argv, std::cout, std::cerr);
}

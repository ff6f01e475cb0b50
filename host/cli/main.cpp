#include <malloc.h>

#include <cstdlib>
#include <iostream>

#include "host/cli/cli.h"
#include "host/common/interrupts.h"

namespace {

// OpenMP's threads sleep as soon as a parallel pass ends instead of spinning for it (GCC's
// libgomp spins up to 300 000 rounds by default): a run alternates OpenMP passes with
// OpenVDB's TBB threads and the file writer's, and on a machine with few cores the spinning
// threads took CPU from them (counted in the run's CPU seconds, and its wall time). libgomp
// reads OMP_WAIT_POLICY once, when it is loaded, before main: so it is set here, in the
// executable's pre-initialisers, which run before any library's. A user's own setting stays.
void prefer_passive_openmp_threads(int, char**, char**) { setenv("OMP_WAIT_POLICY", "passive", /*overwrite=*/0); }
__attribute__((section(".preinit_array"), used)) void (*const set_openmp_policy)(int, char**, char**) =
    prefer_passive_openmp_threads;

}  // namespace

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

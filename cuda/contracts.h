// Contracts of the shared host/device code (as Celeritas' CELER_EXPECT and pbrt's DCHECK):
// preconditions and invariants of the march's index arithmetic, checked in the sanitizer,
// fuzzer and Debug builds (DOSEMAP_CONTRACTS) and free in Release builds. Input is
// validated where it enters (the scene reader and set-up); a broken contract is a bug in
// dosemap, reported with its place and stopped at once.
#pragma once

#include "cuda/device.h"

#if defined(DOSEMAP_CONTRACTS)
#if defined(__CUDA_ARCH__)
#include <stdio.h>
#define DM_EXPECT(cond)                                                                                    \
  do {                                                                                                     \
    if (!(cond)) {                                                                                         \
      printf("dosemap: internal error: contract '%s' broken at %s:%d\n", #cond, __FILE__, __LINE__);       \
      __trap();                                                                                            \
    }                                                                                                      \
  } while (0)
#else
#include <cstdio>
#include <cstdlib>
#define DM_EXPECT(cond)                                                                                    \
  do {                                                                                                     \
    if (!(cond)) {                                                                                         \
      std::fprintf(stderr, "dosemap: internal error: contract '%s' broken at %s:%d\n", #cond, __FILE__,     \
                   __LINE__);                                                                              \
      std::abort();                                                                                        \
    }                                                                                                      \
  } while (0)
#endif
#else
#define DM_EXPECT(cond) \
  do {                  \
  } while (0)
#endif

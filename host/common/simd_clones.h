// A function compiled three times, for AVX-512, AVX2 and the baseline (SSE2), the loader
// picking the one this processor runs: for the vector loops of the march and the writers,
// in a build that must run on any x86-64. Files using it are compiled without FMA
// contraction (CMakeLists.txt), so that every clone rounds alike and results do not depend
// on the machine.
#pragma once

// Not in the sanitizer and fuzz builds (ASan and ifunc resolvers, clang): one clone there.
#if defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define DOSEMAP_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define DOSEMAP_SIMD_CLONES
#endif

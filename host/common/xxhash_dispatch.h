// xxHash's XXH3 on the widest vectors the CPU has: Debian's libxxhash is built for SSE2, and
// its dispatching entry points (which this header puts in place of XXH3_64bits_update and
// the others) use AVX2 or AVX-512 when present, for the same hashes: hashing a run's files
// as they are written took 1 instruction per byte, about a sixth of that with AVX2.
#pragma once

#if defined(__x86_64__)
#include <xxh_x86dispatch.h>
#else
#include <xxhash.h>
#endif

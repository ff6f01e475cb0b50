// One macro marks code shared by the CPU backend (g++) and the CUDA backend (nvcc).
// CCCL does not define __host__/__device__ for a pure host compile, hence our own.
#pragma once

#if defined(__CUDACC__)
#define DM_HD __host__ __device__
#define DM_INLINE __forceinline__
#else
#define DM_HD
#define DM_INLINE inline
#endif

// Reductions over float arrays (a run of one material's voxels in index order; a grid's whole
// array), with SSE2 vectors: the same results as the voxel-by-voxel loops they replace, bit for
// bit (the statistics of a run stay what they were). Voxel by voxel, with the accumulators in
// memory, the run statistics cost as much CPU as the column march on bench_pouch (issue 15).
// The values must not be NaN (doses, rates and crossing times never are).
#pragma once

#include <cstdint>

namespace dosemap {

// The largest of x[0..n), n >= 1.
float max_of(const float* x, int64_t n);

// The first i with x[i] == value (x holds it), or n.
int64_t first_index_of(const float* x, int64_t n, float value);

// How many x[i] have double(x[i]) >= threshold (any threshold, +inf included).
int64_t count_at_least(const float* x, int64_t n, double threshold);

// The smallest x[i] >= 0, or -1 where there is none (x: crossing times, -1 for never; never
// -0, whose tie with +0 the vectors may resolve either way).
float min_non_negative(const float* x, int64_t n);

// The largest of dose[i] > 0 ? part[i] * (rate[i] / dose[i]) : 0, in double, and 0 for n == 0:
// the peak rate of a component whose dose `part` has its voxel's history.
double max_scaled_rate(const float* part, const float* rate, const float* dose, int64_t n);

// The voxel-by-voxel loops, for the tests.
float max_of_scalar(const float* x, int64_t n);
int64_t count_at_least_scalar(const float* x, int64_t n, double threshold);
float min_non_negative_scalar(const float* x, int64_t n);
double max_scaled_rate_scalar(const float* part, const float* rate, const float* dose, int64_t n);

}  // namespace dosemap

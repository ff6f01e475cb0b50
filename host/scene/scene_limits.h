// Everything a scene may ask for, in one place. Each limit is checked when the scene is
// read, or, for counts that need the grid and the beam, when it is set up (before anything
// is expanded or allocated), so `check` refuses exactly what `run` would and no size
// arithmetic can overflow. The ranges of input values keep every intermediate finite:
// photon numbers, durations, fluences and doses are products of a few of them.
#pragma once

#include <cstdint>

#include "cuda/engine_limits.h"

namespace dosemap {

// ---- the file ----
inline constexpr int64_t kMaxSceneFileBytes = int64_t(64) << 20;
// Dotted keys (a.b.c) and table headers nest at most this deep; arrays and inline tables
// too. Scenes need 3; the TOML reader and the tree it builds recurse once per level.
inline constexpr int kMaxKeyDepth = 32;
inline constexpr int kMaxValueNesting = 32;

// ---- materials ----
// Material ids are 16-bit and 0xFFFF marks void.
inline constexpr int64_t kMaxMaterials = 65535;

// ---- grid ----
// Voxel indices are int32 in OpenVDB; a slab's column index is uint32 on the GPU; 2^40
// voxels keep every byte count far from overflow (the memory check refuses much less).
inline constexpr int64_t kMaxAxisVoxels = int64_t(1) << 24;
inline constexpr int64_t kMaxColumns = (int64_t(1) << 32) - 1;
inline constexpr int64_t kMaxVoxels = int64_t(1) << 40;

// ---- value ranges ----
inline constexpr double kMinLength_um = 1e-3;  // 1 nm: voxels, beam sizes, steps
inline constexpr double kMaxLength_um = 1e9;   // 1 km: any length or position
inline constexpr double kMinTime_s = 1e-9;     // exposures, dwells, waits
inline constexpr double kMaxTime_s = 1e9;      // about 32 years
inline constexpr double kMinSpeed_um_s = 1e-3;
inline constexpr double kMaxSpeed_um_s = 1e9;
inline constexpr double kMinFlux_ph_s = 1.0;
inline constexpr double kMaxFlux_ph_s = 1e30;

// ---- stage angles ----
inline constexpr double kMaxAngle_deg = 1e5;  // about 280 turns either way
inline constexpr double kMaxTilt_deg = 90.0;
inline constexpr double kMinAngleStep_deg = 1e-6;
inline constexpr double kMinAngularSpeed_deg_s = 1e-6;
inline constexpr double kMaxAngularSpeed_deg_s = 1e6;

// ---- beam image ----
inline constexpr int64_t kMaxBeamImagePixels = int64_t(1) << 24;  // 4096 x 4096
inline constexpr int64_t kMaxBeamImageFileBytes = int64_t(512) << 20;

// ---- scan ----
// A scan log (kind = "log"): a CSV read whole, HDF5 counters read one by one.
inline constexpr int64_t kMaxScanLogFileBytes = int64_t(1) << 30;
inline constexpr int64_t kMaxScanLogRows = 50'000'000;  // as many exposures as dosemap handles
inline constexpr int64_t kMaxRepeat = 1000000;
inline constexpr double kMaxRasterPointsPerAxis = 1e7;

// How much a scan may expand to. Defaults for `check` and `run`; the fuzzer passes smaller
// ones to stay fast, which exercises the same refusal paths.
struct WorkLimits {
  int64_t max_exposures = 50'000'000;       // 56 bytes each
  int64_t max_sub_exposures = 100'000'000;  // fly sub-steps included; 64 bytes each, 32-bit index
};

}  // namespace dosemap

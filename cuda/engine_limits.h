// Sizes of the fixed per-thread state of the column march (cuda/ray_march.h). Plain
// constants with no dependencies, so the scene reader can refuse a scene that exceeds them
// when it is read (host/scene/scene_limits.h), and `check` refuses exactly what `run` would.
#pragma once

namespace dosemap {

constexpr int kMaxSpectrumLines = 64;
constexpr int kMaxComponentGrids = 32;  // distinct component materials (a dose grid each)
constexpr int kMaxComponentSlots = 64;  // (material, component) pairs
constexpr int kMaxThresholds = 16;

}  // namespace dosemap

// Sizes of the fixed per-thread state of the march (cuda/ray_march.h). Plain
// constants with no dependencies, so the scene reader can refuse a scene that exceeds them
// when it is read (host/scene/scene_limits.h), and `check` refuses exactly what `run` would.
#pragma once

namespace dosemap {

constexpr int kMaxSpectrumLines = 64;
// Lines whose transmission a GPU thread keeps in its own array (128 bytes); beyond, the
// backends give the march a scratch column per ray (cuda/ray_march.h, LineTransmission).
constexpr int kInlineSpectrumLines = 16;
constexpr int kMaxComponentGrids = 32;  // distinct component materials (a dose grid each)
constexpr int kMaxComponentSlots = 64;  // (material, component) pairs
constexpr int kMaxThresholds = 16;

}  // namespace dosemap

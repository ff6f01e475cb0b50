// Reads and validates a format-1 scene file. Throws UserError listing every problem found
// (file:line:col, what, how to fix). Cross-section look-ups (formulas, NIST names) are
// checked later by the materials stage, with positions kept in the specs.
#pragma once

#include <string>

#include "host/scene/scene.h"

namespace dosemap {

Scene read_scene(const std::string& path);

// Reads a scene from text (tests); `path` is used in messages and for relative paths.
Scene read_scene_text(const std::string& text, const std::string& path);

// Default damage thresholds (Gy), from the dose scale of Jousseaume et al. 2023.
std::vector<Threshold> default_thresholds();

}  // namespace dosemap

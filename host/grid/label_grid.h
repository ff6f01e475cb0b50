// A label volume ([sample.volume]) laid into the material grid: the file is read one slice at
// a time, every label is checked against the names the scene gives it, and each voxel of the
// grid takes the material of the volume voxel its centre falls in (the volume's own grid, or a
// finer one over part of it for --convergence). No second copy of the volume is held.
#pragma once

#include <vector>

#include "host/grid/voxel_grid.h"
#include "host/scene/scene.h"

namespace dosemap {

// Writes the volume's materials into `material` (laid out as g); voxels of g outside the
// volume are left as they are. Throws UserError (at the scene's file key, naming the file,
// the label and where it lies) for a label without a name, a value that is not an integer,
// or data that cannot be read.
void paint_label_volume(const Scene& scene, const GridGeometry& g, std::vector<MaterialId>& material);

}  // namespace dosemap

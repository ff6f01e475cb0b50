// points.h5: the per-visit table (host/outputs/point_table.h) as HDF5, one dataset per
// column of points.csv (the same names), each with a `units` attribute; threshold_passed
// as the number of thresholds passed (0: none), the labels in the file's `thresholds`
// attribute. Written in memory and handed to the run directory's checked file, like every
// other output. The only HDF5 code of dosemap.
#pragma once

#include <ostream>

#include "host/outputs/point_table.h"

namespace dosemap {

void write_points_h5(const PointTable& t, std::ostream& out);

}  // namespace dosemap

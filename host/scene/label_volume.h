// The file of a label volume ([sample.volume], docs/scene-format.md "Imported label volumes"):
// its format from the extension, and its header, read when the scene is (the grid's size
// comes from it) and again when the grid is built (host/grid/label_grid.h).
#pragma once

#include <optional>
#include <string>

#include "host/scene/array_files.h"
#include "host/scene/scene.h"

namespace dosemap {

// .tif/.tiff, .h5/.hdf5/.nxs, .npy or .raw (any case); nullopt for anything else.
std::optional<VolumeFormat> volume_format(const std::string& path);

// The file opened at its header as the spec says (format, dataset, raw shape and dtype).
// Throws UserError naming the file for one that cannot be read or is not a 3-D array of
// numbers.
ArrayStack open_label_volume(const VolumeSpec& volume);

}  // namespace dosemap

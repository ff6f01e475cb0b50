#include "host/scene/label_volume.h"

#include <filesystem>

#include "host/common/errors.h"

namespace dosemap {

std::optional<VolumeFormat> volume_format(const std::string& path) {
  switch (array_file_kind(path)) {
    case ArrayFileKind::kTiff: return VolumeFormat::kTiff;
    case ArrayFileKind::kHdf5: return VolumeFormat::kHdf5;
    case ArrayFileKind::kNpy: return VolumeFormat::kNpy;
    case ArrayFileKind::kRaw: return VolumeFormat::kRaw;
    default: return std::nullopt;
  }
}

ArrayStack open_label_volume(const VolumeSpec& v) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(v.path, ec))
    throw UserError(SourcePos{v.path, 0, 0},
                    std::filesystem::exists(v.path, ec) ? "is not a regular file" : "does not exist",
                    "check the path (relative to the scene file)");
  ArrayStack s;
  switch (v.format) {
    case VolumeFormat::kTiff: s = tiff_stack(v.path, v.path); break;
    case VolumeFormat::kHdf5: s = hdf5_stack(v.path, v.path, v.dataset); break;
    case VolumeFormat::kNpy: s = npy_stack(v.path, v.path); break;
    case VolumeFormat::kRaw: s = raw_stack(v.path, v.path, v.raw_shape, v.raw_bytes, v.raw_kind); break;
  }
  if (s.rank != 3)
    throw UserError(SourcePos{v.path, 0, 0}, "holds a 2-D array, not a volume",
                    "save the labels as a 3-D array (one slice: shape (1, rows, columns))");
  return s;
}

}  // namespace dosemap

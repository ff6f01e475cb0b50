// HDF5 files as dosemap reads them (beam images, label volumes, scan logs): read-only, with
// file locking off, so that a file the beamline's control system still holds open is read.
#pragma once

#include <hdf5.h>

#include <string>

namespace dosemap {

// The file opened read-only (HDF5's own error printing off), or a negative id.
hid_t open_hdf5_read_only(const std::string& path);

}  // namespace dosemap

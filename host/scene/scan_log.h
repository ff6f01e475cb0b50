// Scan logs the control system wrote, read for replay ([[scan.steps]] kind = "log",
// docs/scene-format.md "Scan-log replay"): a CSV file with named columns, or an HDF5 file laid
// out as ESRF BLISS / NeXus scans (/<entry>/measurement/<counter> arrays, the motors that did
// not move as scalars in /<entry>/instrument/positioners_start; both group names are keys, so
// that other layouts need only names). Each quantity is a column converted as the scene says:
// value -> sign * (value - zero) * unit.
#pragma once

#include <array>
#include <memory>
#include <string>

#include "host/common/errors.h"
#include "host/scene/scene.h"

namespace dosemap {

struct LogColumn {
  bool present = false;
  std::string column;  // the CSV header's name, or the HDF5 counter's
  double unit = 1;     // to um, deg or s
  double sign = 1;
  double zero = 0;     // in the column's own unit
  double reference = 0;  // a monitor: its reading at the full flux_ph_s
  SourcePos where;     // the scene's key
  double convert(double value) const { return sign * (value - zero) * unit; }
};

struct ScanLogSpec {
  std::string path;   // as resolved (relative to the scene)
  std::string shown;  // as the scene names it
  bool hdf5 = false;
  std::string entry;                                          // HDF5: the scan, e.g. "42.1"
  std::string columns_group = "measurement";                  // HDF5, relative to the entry
  std::string constants_group = "instrument/positioners_start";
  bool fly = false;
  LogColumn x, y, angle, time, exposure, monitor, shutter;
  std::array<double, 2> at_um{};  // the beam for an axis without a column
  double exposure_s = 0;         // points: every row's, without an exposure column
  SourcePos file_where;          // the file key
};

// Reads the columns the spec names and converts them row by row; problems go to `diag`
// (CSV: file:line:col of the value; HDF5: the file, the dataset and the row), nullptr then.
// A missing column, a value that is not finite, a time that does not increase, a
// non-positive exposure or an exposure that overlaps the next row are errors; columns of
// different lengths (an interrupted scan) replay the rows every column holds, with a note.
std::shared_ptr<const ScanLogRows> read_scan_log(const ScanLogSpec& spec, Diagnostics& diag);

}  // namespace dosemap

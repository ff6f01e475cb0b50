#include "host/scene/beam_image.h"

#include <cctype>
#include <cmath>
#include <filesystem>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <string_view>
#include <vector>

#include "host/common/input_file.h"
#include "host/scene/array_files.h"
#include "host/common/text.h"
#include "host/scene/scene_limits.h"

namespace dosemap {

namespace {

// The CSV's values, the file's first row first; false (with diagnostics) on a problem.
bool read_csv_image(const std::string& file_path, const std::string& shown_path, ImageArray& out, Diagnostics& diag) {
  std::string text;
  try {
    read_small_file(file_path, "beam image", kMaxBeamImageFileBytes, text);
  } catch (const UserError& e) {
    for (const Diagnostic& d : e.diagnostics()) diag.error({shown_path, 0, 0}, d.what, d.fix);
    return false;
  }
  // One pass over the text into one flat array (no per-row vectors): the image in memory
  // is the file plus 8 bytes a pixel, as the memory estimate counts it.
  const size_t errors_before = diag.size();
  std::vector<double> values;
  // A value takes at least two characters (a digit and a separator): never regrown.
  values.reserve(static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(text.size() / 2 + 1), kMaxBeamImagePixels)));
  int64_t nx = -1, ny = 0;
  int line_no = 0, first_row_line = 0;
  for (size_t line_begin = 0; line_begin < text.size();) {
    size_t line_end = text.find('\n', line_begin);
    if (line_end == std::string::npos) line_end = text.size();
    ++line_no;
    const std::string_view line(text.data() + line_begin, line_end - line_begin);
    const size_t next = line_end + 1;
    const size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string_view::npos || line[start] == '#') {
      line_begin = next;
      continue;
    }
    int64_t row = 0;
    for (size_t i = 0; i < line.size();) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == ',')) ++i;
      if (i >= line.size()) break;
      const char* begin = line.data() + i;
      char* end = nullptr;
      const double v = std::strtod(begin, &end);
      const size_t length = static_cast<size_t>(end - begin);
      if (length == 0 || i + length > line.size()) {
        const size_t stop = std::min(line.find_first_of(", \t\r", i), line.size());
        diag.error({shown_path, line_no, static_cast<int>(i + 1)},
                   "beam image value '" + std::string(line.substr(i, std::min<size_t>(stop - i, 40))) + "' is not a number",
                   "the CSV must hold relative intensities only (comment lines start with '#')");
        return false;
      }
      if (!std::isfinite(v) || v < 0) {
        diag.error({shown_path, line_no, static_cast<int>(i + 1)},
                   "beam image intensity must be a finite non-negative number, got " + std::string(line.substr(i, length)),
                   "replace it with 0 or a positive value");
        return false;
      }
      if (static_cast<int64_t>(values.size()) >= kMaxBeamImagePixels) {
        diag.error({shown_path, line_no, static_cast<int>(i + 1)},
                   "beam image has more than " + group_digits(kMaxBeamImagePixels) + " pixels",
                   "bin the image (and scale pixel_um to match)");
        return false;
      }
      values.push_back(v);
      ++row;
      i += length;
    }
    if (nx < 0) {
      nx = row;
      first_row_line = line_no;
    } else if (row != nx) {
      diag.error({shown_path, line_no, 1},
                 "beam image row has " + std::to_string(row) + " values but the first row (line " +
                     std::to_string(first_row_line) + ") has " + std::to_string(nx),
                 "every row must have the same number of pixels");
      return false;
    }
    ++ny;
    line_begin = next;
  }
  if (values.empty()) {
    diag.error({shown_path, 0, 0}, "beam image has no pixels", "write one row of intensities per y");
    return false;
  }
  if (diag.size() != errors_before) return false;
  out.rows = ny;
  out.columns = nx;
  out.values = std::move(values);
  return true;
}

}  // namespace

BeamImageFormat beam_image_format(const std::string& path) {
  switch (array_file_kind(path)) {
    case ArrayFileKind::kTiff: return BeamImageFormat::kTiff;
    case ArrayFileKind::kHdf5: return BeamImageFormat::kHdf5;
    case ArrayFileKind::kNpy: return BeamImageFormat::kNpy;
    default: return BeamImageFormat::kCsv;  // any other name is read as CSV
  }
}

void read_beam_image(const std::string& file_path, const std::string& shown_path, const BeamImageOptions& options,
                     BeamImage& image, Diagnostics& diag) {
  ImageArray a;
  try {
    switch (beam_image_format(file_path)) {
      case BeamImageFormat::kCsv:
        if (!read_csv_image(file_path, shown_path, a, diag)) return;
        break;
      case BeamImageFormat::kTiff: a = read_tiff_image(file_path, shown_path, kMaxBeamImagePixels); break;
      case BeamImageFormat::kHdf5: a = read_hdf5_image(file_path, shown_path, options.dataset, kMaxBeamImagePixels); break;
      case BeamImageFormat::kNpy: a = read_npy_image(file_path, shown_path, kMaxBeamImagePixels); break;
    }
  } catch (const UserError& e) {
    for (const Diagnostic& d : e.diagnostics()) diag.error({shown_path, 0, 0}, d.what, d.fix);
    return;
  }
  // The camera's offset off; the rows turned so that row 0 is the lowest y.
  std::vector<double> values(a.values.size());
  for (int64_t r = 0; r < a.rows; ++r)
    for (int64_t c = 0; c < a.columns; ++c) {
      const double v = a.values[r * a.columns + c];
      if (!std::isfinite(v)) {
        diag.error({shown_path, 0, 0},
                   "beam image pixel at row " + std::to_string(r) + ", column " + std::to_string(c) + " is not finite",
                   "replace NaN and infinite pixels (0 for none)");
        return;
      }
      const int64_t row = options.first_row_highest_y ? a.rows - 1 - r : r;
      values[row * a.columns + c] = std::max(0.0, v - options.background);
    }
  // Relative intensities: scaled by the largest first, so that the sum stays finite.
  const double largest = *std::max_element(values.begin(), values.end());
  if (!(largest > 0)) {
    diag.error({shown_path, 0, 0},
               options.background != 0 ? "beam image is all zero once image_background (" + fmt_g(options.background, 6) +
                                             ") is subtracted"
                                       : "beam image is all zero",
               options.background != 0 ? "check image_background (the camera's dark level)"
                                       : "at least one pixel must have positive intensity");
    return;
  }
  double sum = 0;
  for (double& v : values) sum += (v /= largest);
  for (double& v : values) v /= sum;
  image.nx = static_cast<int>(a.columns);
  image.ny = static_cast<int>(a.rows);
  image.intensity = std::make_shared<const std::vector<double>>(std::move(values));
}

BeamImageShape measure_beam_image(const BeamImage& image) {
  BeamImageShape s;
  const std::vector<double>& I = *image.intensity;
  for (int a = 0; a < 2; ++a) {
    const int n = a == 0 ? image.nx : image.ny;
    std::vector<double> profile(static_cast<size_t>(n), 0.0);
    for (int j = 0; j < image.ny; ++j)
      for (int i = 0; i < image.nx; ++i) profile[a == 0 ? i : j] += I[static_cast<size_t>(j) * image.nx + i];
    // Pixel k's centre, relative to the image centre (the beam position).
    auto at = [&](double k) { return (k + 0.5 - 0.5 * n) * image.pixel_um[a]; };
    double total = 0, moment = 0;
    for (int k = 0; k < n; ++k) {
      total += profile[k];
      moment += profile[k] * at(k);
    }
    s.centroid_um[a] = moment / total;
    // Half maximum: the outermost crossings, interpolated between pixel centres.
    const int peak = static_cast<int>(std::max_element(profile.begin(), profile.end()) - profile.begin());
    const double half = 0.5 * profile[peak];
    int lo = peak, hi = peak;
    for (int k = 0; k < n; ++k)
      if (profile[k] >= half) {
        lo = std::min(lo, k);
        hi = std::max(hi, k);
      }
    const double left = lo > 0 ? lo - (profile[lo] - half) / (profile[lo] - profile[lo - 1]) : lo - 0.5;
    const double right = hi + 1 < n ? hi + (profile[hi] - half) / (profile[hi] - profile[hi + 1]) : hi + 0.5;
    s.fwhm_um[a] = (right - left) * image.pixel_um[a];
  }
  return s;
}

}  // namespace dosemap

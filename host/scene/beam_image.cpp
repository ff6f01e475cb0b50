#include "host/scene/beam_image.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "host/common/input_file.h"
#include "host/common/text.h"
#include "host/scene/scene_limits.h"

namespace dosemap {

void read_beam_image_csv(const std::string& file_path, const std::string& shown_path, BeamImage& image,
                         Diagnostics& diag) {
  std::string text;
  try {
    read_small_file(file_path, "beam image", kMaxBeamImageFileBytes, text);
  } catch (const UserError& e) {
    for (const Diagnostic& d : e.diagnostics()) diag.error({shown_path, 0, 0}, d.what, d.fix);
    return;
  }
  std::istringstream in(std::move(text));
  int64_t pixels = 0;
  const size_t errors_before = diag.size();
  std::vector<std::vector<double>> rows;
  std::string line;
  int line_no = 0;
  int first_row_line = 0;
  while (std::getline(in, line)) {
    ++line_no;
    size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#') continue;
    std::vector<double> row;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' || line[i] == ',')) ++i;
      if (i >= line.size()) break;
      const size_t col = i + 1;
      const char* begin = line.c_str() + i;
      char* end = nullptr;
      errno = 0;
      double v = std::strtod(begin, &end);
      if (end == begin) {
        size_t stop = line.find_first_of(", \t\r", i);
        diag.error({shown_path, line_no, static_cast<int>(col)},
                   "beam image value '" + line.substr(i, stop - i) + "' is not a number",
                   "the CSV must hold relative intensities only (comment lines start with '#')");
        return;
      }
      if (!std::isfinite(v) || v < 0) {
        diag.error({shown_path, line_no, static_cast<int>(col)},
                   "beam image intensity must be a finite non-negative number, got " + line.substr(i, end - begin),
                   "replace it with 0 or a positive value");
        return;
      }
      row.push_back(v);
      i = static_cast<size_t>(end - line.c_str());
    }
    pixels += static_cast<int64_t>(row.size());
    if (pixels > kMaxBeamImagePixels) {
      diag.error({shown_path, line_no, 1},
                 "beam image has more than " + group_digits(kMaxBeamImagePixels) + " pixels",
                 "bin the image (and scale pixel_um to match)");
      return;
    }
    if (rows.empty()) first_row_line = line_no;
    if (!rows.empty() && row.size() != rows.front().size()) {
      diag.error({shown_path, line_no, 1},
                 "beam image row has " + std::to_string(row.size()) + " values but the first row (line " +
                     std::to_string(first_row_line) + ") has " + std::to_string(rows.front().size()),
                 "every row must have the same number of pixels");
      return;
    }
    rows.push_back(std::move(row));
  }
  if (rows.empty() || rows.front().empty()) {
    diag.error({shown_path, 0, 0}, "beam image has no pixels", "write one row of intensities per y");
    return;
  }
  double sum = 0;
  for (const auto& r : rows)
    for (double v : r) sum += v;
  if (!(sum > 0)) {
    diag.error({shown_path, 0, 0}, "beam image is all zero", "at least one pixel must have positive intensity");
    return;
  }
  if (diag.size() != errors_before) return;
  image.ny = static_cast<int>(rows.size());
  image.nx = static_cast<int>(rows.front().size());
  image.intensity.clear();
  image.intensity.reserve(static_cast<size_t>(image.nx) * image.ny);
  for (const auto& r : rows)
    for (double v : r) image.intensity.push_back(v / sum);
}

}  // namespace dosemap

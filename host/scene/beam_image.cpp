#include "host/scene/beam_image.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <string_view>
#include <vector>

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
        return;
      }
      if (!std::isfinite(v) || v < 0) {
        diag.error({shown_path, line_no, static_cast<int>(i + 1)},
                   "beam image intensity must be a finite non-negative number, got " + std::string(line.substr(i, length)),
                   "replace it with 0 or a positive value");
        return;
      }
      if (static_cast<int64_t>(values.size()) >= kMaxBeamImagePixels) {
        diag.error({shown_path, line_no, static_cast<int>(i + 1)},
                   "beam image has more than " + group_digits(kMaxBeamImagePixels) + " pixels",
                   "bin the image (and scale pixel_um to match)");
        return;
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
      return;
    }
    ++ny;
    line_begin = next;
  }
  if (values.empty()) {
    diag.error({shown_path, 0, 0}, "beam image has no pixels", "write one row of intensities per y");
    return;
  }
  // Relative intensities: scaled by the largest first, so that the sum stays finite.
  const double largest = *std::max_element(values.begin(), values.end());
  if (!(largest > 0)) {
    diag.error({shown_path, 0, 0}, "beam image is all zero", "at least one pixel must have positive intensity");
    return;
  }
  if (diag.size() != errors_before) return;
  double sum = 0;
  for (double& v : values) sum += (v /= largest);
  for (double& v : values) v /= sum;
  image.nx = static_cast<int>(nx);
  image.ny = static_cast<int>(ny);
  image.intensity = std::make_shared<const std::vector<double>>(std::move(values));
}

}  // namespace dosemap

#include "host/scene/scan_log.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "host/common/input_file.h"
#include "host/common/text.h"
#include "host/scene/hdf5_files.h"
#include "host/scene/scene_limits.h"

namespace dosemap {

namespace {

// The columns a log replay reads, each expanded to one value per row, and where each value
// came from, for messages.
struct LogTable {
  int64_t rows = 0;
  std::map<std::string, std::vector<double>> columns;
  // "column 'samx' row 17" (CSV, with the value's file:line:col) or "'/1.1/measurement/samx'
  // row 17" (HDF5, at the file).
  std::function<std::pair<SourcePos, std::string>(const std::string& column, int64_t row)> place;
  std::vector<std::string> notes;
  std::vector<int64_t> lines;  // CSV: each row's line in the file
  std::string title;           // HDF5: the scan's title ("amesh pz -8 8 2 py -6 6 2 0.5")
};

// A scalar string dataset (fixed or variable length), or "" when it is not one.
std::string read_hdf5_string(hid_t file, const std::string& path) {
  const hid_t set = H5Dopen2(file, path.c_str(), H5P_DEFAULT);
  if (set < 0) return "";
  const hid_t type = H5Dget_type(set), space = H5Dget_space(set);
  std::string out;
  if (H5Tget_class(type) == H5T_STRING && H5Sget_simple_extent_npoints(space) == 1) {
    const hid_t memory = H5Tcopy(H5T_C_S1);
    H5Tset_cset(memory, H5Tget_cset(type));
    if (H5Tis_variable_str(type) > 0) {
      H5Tset_size(memory, H5T_VARIABLE);
      char* text = nullptr;
      if (H5Dread(set, memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, &text) >= 0 && text) {
        out = text;
        H5Dvlen_reclaim(memory, space, H5P_DEFAULT, &text);
      }
    } else {
      const size_t n = H5Tget_size(type);
      std::string buffer(n + 1, '\0');
      H5Tset_size(memory, n + 1);
      if (H5Dread(set, memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer.data()) >= 0) out = buffer.c_str();
    }
    H5Tclose(memory);
  }
  H5Sclose(space);
  H5Tclose(type);
  H5Dclose(set);
  return out.substr(0, 200);
}

// The quantities of a spec that name a column.
std::vector<const LogColumn*> used_columns(const ScanLogSpec& s) {
  std::vector<const LogColumn*> out;
  for (const LogColumn* c : {&s.x, &s.y, &s.angle, &s.time, &s.exposure, &s.monitor, &s.shutter})
    if (c->present) out.push_back(c);
  return out;
}

// ---- CSV: a header of names, then one row of numbers per line ('#' starts a comment line) ----

std::vector<std::pair<size_t, size_t>> csv_fields(std::string_view line) {
  std::vector<std::pair<size_t, size_t>> out;  // [begin, end) of each field
  size_t i = 0;
  while (true) {
    size_t end = line.find(',', i);
    if (end == std::string_view::npos) end = line.size();
    size_t b = i, e = end;
    while (b < e && (line[b] == ' ' || line[b] == '\t')) ++b;
    while (e > b && (line[e - 1] == ' ' || line[e - 1] == '\t' || line[e - 1] == '\r')) --e;
    out.push_back({b, e});
    if (end == line.size()) break;
    i = end + 1;
  }
  return out;
}

std::optional<LogTable> read_csv_log(const ScanLogSpec& spec, Diagnostics& diag) {
  auto text = std::make_shared<std::string>();
  try {
    read_small_file(spec.path, "scan log", kMaxScanLogFileBytes, *text);
  } catch (const UserError& e) {
    for (const Diagnostic& d : e.diagnostics())
      diag.error(spec.file_where, "[[scan.steps]] log '" + spec.shown + "': " + d.what, d.fix);
    return std::nullopt;
  }
  LogTable t;
  std::vector<std::string> header;
  std::map<std::string, size_t> index;  // the header's name -> field
  auto line_starts = std::make_shared<std::vector<size_t>>();  // per row: where its line begins
  std::vector<int64_t> line_numbers;
  std::vector<size_t> wanted;  // fields of the used columns
  std::vector<std::vector<double>*> into;
  int line_no = 0;
  const size_t errors_before = diag.size();
  for (size_t begin = 0; begin < text->size();) {
    size_t end = text->find('\n', begin);
    if (end == std::string::npos) end = text->size();
    ++line_no;
    const std::string_view line(text->data() + begin, end - begin);
    const size_t first = line.find_first_not_of(" \t\r");
    const size_t this_begin = begin;
    begin = end + 1;
    if (first == std::string_view::npos || line[first] == '#') continue;
    const auto fields = csv_fields(line);
    if (header.empty()) {
      for (const auto& [b, e] : fields) {
        std::string name(line.substr(b, e - b));
        if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
        if (!index.emplace(name, header.size()).second)
          diag.error({spec.shown, line_no, static_cast<int>(b + 1)}, "scan log header names column '" + name + "' twice",
                     "give every column its own name");
        header.push_back(name);
      }
      for (const LogColumn* c : used_columns(spec)) {
        const auto it = index.find(c->column);
        if (it == index.end()) {
          diag.error(c->where, "[[scan.steps]] log '" + spec.shown + "' has no column '" + c->column + "'",
                     "name one of its columns: " + join_alternatives(header) + did_you_mean(c->column, header));
          continue;
        }
        wanted.push_back(it->second);
        into.push_back(&t.columns[c->column]);
      }
      if (diag.size() != errors_before) return std::nullopt;
      continue;
    }
    if (fields.size() != header.size()) {
      diag.error({spec.shown, line_no, 1},
                 "scan log row has " + std::to_string(fields.size()) + " fields, the header " + std::to_string(header.size()),
                 "every row must give a value for every column (the scan may have been cut off mid-line: remove "
                 "the partial line)");
      return std::nullopt;
    }
    for (size_t n = 0; n < wanted.size(); ++n) {
      const auto [b, e] = fields[wanted[n]];
      const std::string value(line.substr(b, e - b));
      char* stop = nullptr;
      const double v = std::strtod(value.c_str(), &stop);
      if (value.empty() || *stop != '\0') {
        diag.error({spec.shown, line_no, static_cast<int>(b + 1)},
                   "scan log column '" + header[wanted[n]] + "' holds '" + value.substr(0, 40) + "', not a number",
                   "give numbers only (comment lines start with '#')");
        return std::nullopt;
      }
      into[n]->push_back(v);
    }
    line_starts->push_back(this_begin);
    line_numbers.push_back(line_no);
    ++t.rows;
  }
  if (header.empty()) {
    diag.error(spec.file_where, "[[scan.steps]] log '" + spec.shown + "' is empty", "give a header line and one row per point");
    return std::nullopt;
  }
  t.lines = line_numbers;
  const std::string shown = spec.shown;
  t.place = [text, line_starts, line_numbers, index, shown](const std::string& column, int64_t row) {
    const size_t begin = (*line_starts)[row];
    size_t end = text->find('\n', begin);
    if (end == std::string::npos) end = text->size();
    const auto fields = csv_fields(std::string_view(text->data() + begin, end - begin));
    const size_t field = index.at(column);
    return std::make_pair(SourcePos{shown, static_cast<int>(line_numbers[row]), static_cast<int>(fields[field].first + 1)},
                          "scan log column '" + column + "' row " + std::to_string(row + 1));
  };
  return t;
}

// ---- HDF5: BLISS / NeXus scans ----

std::optional<LogTable> read_hdf5_log(const ScanLogSpec& spec, Diagnostics& diag) {
  auto file_error = [&](const SourcePos& at, const std::string& what, const std::string& fix) {
    diag.error(at, "[[scan.steps]] log '" + spec.shown + "' " + what, fix);
  };
  const size_t errors_before = diag.size();
  const hid_t file = open_hdf5_read_only(spec.path);  // BLISS may still hold it open
  if (file < 0) {
    file_error(spec.file_where, "cannot be read as HDF5", "check the path (relative to the scene file)");
    return std::nullopt;
  }
  struct Closer {
    hid_t f;
    ~Closer() { H5Fclose(f); }
  } closer{file};
  auto exists = [&](const std::string& path) {
    // Every link on the way must exist for H5Lexists not to fail.
    size_t at = 1;
    while (true) {
      const size_t slash = path.find('/', at);
      const std::string part = path.substr(0, slash);
      if (H5Lexists(file, part.c_str(), H5P_DEFAULT) <= 0) return false;
      if (slash == std::string::npos) return true;
      at = slash + 1;
    }
  };
  const std::string entry = "/" + spec.entry;
  if (!exists(entry)) {
    std::vector<std::string> entries;
    H5G_info_t info{};
    if (H5Gget_info(file, &info) >= 0)
      for (hsize_t k = 0; k < info.nlinks && entries.size() < 12; ++k) {
        char name[256] = {0};
        if (H5Lget_name_by_idx(file, ".", H5_INDEX_NAME, H5_ITER_INC, k, name, sizeof name, H5P_DEFAULT) > 0)
          entries.push_back(name);
      }
    file_error(spec.file_where, "has no scan '" + spec.entry + "'",
               entries.empty() ? "check the file" : "give one of its scans as entry: " + join_alternatives(entries));
    return std::nullopt;
  }
  auto group_path = [&](const std::string& g) { return g.empty() || g[0] != '/' ? entry + "/" + g : g; };
  const std::string arrays = group_path(spec.columns_group), constants = group_path(spec.constants_group);
  LogTable t;
  if (exists(entry + "/title")) t.title = read_hdf5_string(file, entry + "/title");
  std::map<std::string, std::string> dataset_of;
  std::map<std::string, std::vector<double>> raw;
  std::map<std::string, bool> is_constant;
  for (const LogColumn* c : used_columns(spec)) {
    if (raw.count(c->column)) continue;
    std::string path = arrays + "/" + c->column;
    bool constant = false;
    if (!exists(path)) {
      path = constants + "/" + c->column;
      constant = true;
      if (!exists(path)) {
        file_error(c->where, "has no counter '" + c->column + "' in " + arrays + " nor " + constants,
                   "name a counter of the scan (or set columns / constants to the groups that hold them)");
        continue;
      }
    }
    const hid_t set = H5Dopen2(file, path.c_str(), H5P_DEFAULT);
    if (set < 0) {
      file_error(c->where, "'" + path + "' is not a dataset", "name a counter of the scan");
      continue;
    }
    const hid_t space = H5Dget_space(set), type = H5Dget_type(set);
    const int rank = H5Sget_simple_extent_ndims(space);
    const H5T_class_t cls = H5Tget_class(type);
    hsize_t n = 1;
    if (rank == 1) H5Sget_simple_extent_dims(space, &n, nullptr);
    if (n > static_cast<hsize_t>(kMaxScanLogRows)) {
      file_error(c->where, "'" + path + "' holds " + group_digits(static_cast<int64_t>(n)) + " points; at most " +
                               group_digits(kMaxScanLogRows) + " are replayed",
                 "replay the scan in parts (one log step each)");
      H5Tclose(type);
      H5Sclose(space);
      H5Dclose(set);
      continue;
    }
    std::vector<double> values(static_cast<size_t>(rank <= 1 ? n : 0));
    bool ok = (cls == H5T_INTEGER || cls == H5T_FLOAT) && rank <= 1 && (!constant || n == 1);
    if (ok && !values.empty()) ok = H5Dread(set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0;
    H5Tclose(type);
    H5Sclose(space);
    H5Dclose(set);
    if (!ok) {
      file_error(c->where, "'" + path + "' is not one number per point (rank " + std::to_string(rank) + ")",
                 "name a counter that holds one number per point (or a motor position)");
      continue;
    }
    dataset_of[c->column] = path;
    is_constant[c->column] = constant || rank == 0;
    raw[c->column] = std::move(values);
  }
  if (diag.size() != errors_before) return std::nullopt;
  // Rows: what every array holds; BLISS leaves counters of an interrupted scan uneven.
  int64_t rows = -1, longest = 0;
  std::string lengths;
  for (const auto& [name, values] : raw) {
    if (is_constant[name]) continue;
    const int64_t n = static_cast<int64_t>(values.size());
    rows = rows < 0 ? n : std::min(rows, n);
    longest = std::max(longest, n);
    lengths += (lengths.empty() ? "" : ", ") + name + " " + std::to_string(n);
  }
  if (rows < 0) {
    file_error(spec.file_where, "gives no counter that changes from point to point (only motor positions at the start)",
               "name at least one counter of " + arrays + " (a position or a time)");
    return std::nullopt;
  }
  if (rows < longest)
    t.notes.push_back("the counters of scan " + spec.entry + " in '" + spec.shown + "' hold different numbers of points (" +
                      lengths + "): the scan was interrupted; the " + std::to_string(rows) +
                      " points every counter holds are replayed");
  t.rows = rows;
  for (auto& [name, values] : raw) {
    if (is_constant[name]) values.assign(static_cast<size_t>(rows), values.empty() ? 0.0 : values.front());
    values.resize(static_cast<size_t>(rows));
    t.columns[name] = std::move(values);
  }
  const std::string shown = spec.shown;
  t.place = [dataset_of, shown](const std::string& column, int64_t row) {
    return std::make_pair(SourcePos{shown, 0, 0},
                          "'" + dataset_of.at(column) + "' point " + std::to_string(row + 1));
  };
  return t;
}

}  // namespace

std::shared_ptr<const ScanLogRows> read_scan_log(const ScanLogSpec& spec, Diagnostics& diag) {
  const size_t errors_before = diag.size();
  std::optional<LogTable> table = spec.hdf5 ? read_hdf5_log(spec, diag) : read_csv_log(spec, diag);
  if (!table || diag.size() != errors_before) return nullptr;
  LogTable& t = *table;
  const int64_t need = spec.fly ? 2 : 1;
  if (t.rows < need) {
    diag.error(spec.file_where,
               "[[scan.steps]] log '" + spec.shown + "' holds " + std::to_string(t.rows) + " rows; " +
                   (spec.fly ? "a fly replay needs at least 2 (beam on between rows)" : "a replay needs at least 1"),
               "check the file and the scan entry");
    return nullptr;
  }
  auto rows = std::make_shared<ScanLogRows>();
  ScanLogRows& r = *rows;
  r.fly = spec.fly;
  r.file = spec.shown;
  r.notes = t.notes;
  r.line = t.lines;
  if (spec.hdf5) r.scan = spec.entry + (t.title.empty() ? "" : " \"" + t.title + "\"");
  auto bad = [&](const LogColumn& c, int64_t row, const std::string& what, const std::string& fix) {
    const auto [at, where] = t.place(c.column, row);
    if (at.line > 0) diag.error(at, where + " " + what, fix);  // the CSV's own line and column
    else diag.error(c.where, "[[scan.steps]] log '" + spec.shown + "': " + where + " " + what, fix);
  };
  // Converts column c into out, each value finite and within [lo, hi] once converted.
  auto convert = [&](const LogColumn& c, std::vector<double>& out, double lo, double hi, const std::string& what,
                     const std::string& fix) {
    const std::vector<double>& in = t.columns.at(c.column);
    out.resize(static_cast<size_t>(t.rows));
    for (int64_t n = 0; n < t.rows; ++n) {
      if (!std::isfinite(in[n])) {
        bad(c, n, "is " + fmt_g(in[n]) + ", not a number", "replace or remove the row (a dropped reading?)");
        return false;
      }
      out[n] = c.convert(in[n]) + 0.0;  // + 0.0: a motor at its zero gives +0, as a position written by hand
      if (!(out[n] >= lo && out[n] <= hi)) {
        bad(c, n, "holds " + fmt_g(in[n], 8) + ", " + what, fix);
        return false;
      }
    }
    return true;
  };
  const std::string unit_fix = "check the column's unit, sign and zero in the scene";
  bool ok = true;
  for (int a = 0; a < 2; ++a) {
    const LogColumn& c = a == 0 ? spec.x : spec.y;
    std::vector<double>& out = a == 0 ? r.x_um : r.y_um;
    if (c.present) {
      ok = ok && convert(c, out, -kMaxLength_um, kMaxLength_um,
                         "beyond " + fmt_g(kMaxLength_um, 3) + " um once converted", unit_fix);
    } else {
      out.assign(static_cast<size_t>(t.rows), spec.at_um[a]);
    }
  }
  if (ok && spec.angle.present)
    ok = convert(spec.angle, r.angle_deg, -kMaxAngle_deg, kMaxAngle_deg,
                 "beyond " + fmt_g(kMaxAngle_deg, 3) + " degrees once converted", unit_fix);
  if (ok && spec.time.present) {
    std::vector<double> time;
    ok = convert(spec.time, time, -1e300, 1e300, "", "");
    r.t_s.resize(time.size());
    for (int64_t n = 0; ok && n < t.rows; ++n) {
      r.t_s[n] = time[n] - time[0];
      if (n > 0 && !(time[n] > time[n - 1])) {
        bad(spec.time, n, "is " + fmt_g(time[n] - time[n - 1], 6) + " s after the row before: time must increase",
            "check the time column (rows in the order they were measured, one per point)");
        ok = false;
      } else if (r.t_s[n] > kMaxTime_s) {
        bad(spec.time, n, "is " + fmt_g(r.t_s[n], 4) + " s after the first row, more than " + fmt_g(kMaxTime_s, 3), unit_fix);
        ok = false;
      }
    }
  }
  if (ok && !spec.fly) {
    if (spec.exposure.present)
      ok = convert(spec.exposure, r.exposure_s, kMinTime_s, kMaxTime_s,
                   "not an exposure between " + fmt_g(kMinTime_s, 3) + " and " + fmt_g(kMaxTime_s, 3) + " s", unit_fix);
    else
      r.exposure_s.assign(static_cast<size_t>(t.rows), spec.exposure_s);
  }
  if (ok && spec.monitor.present) {
    LogColumn monitor = spec.monitor;
    monitor.unit = 1 / spec.monitor.reference;  // value -> flux factor
    ok = convert(monitor, r.flux_factor, 0, 1e6, "a negative monitor, or more than 1e6 times the reference",
                 "check the monitor column and reference");
  }
  if (ok && spec.shutter.present) {
    std::vector<double> shutter;
    ok = convert(spec.shutter, shutter, -1e300, 1e300, "", "");
    r.open.resize(shutter.size());
    for (size_t n = 0; n < shutter.size(); ++n) r.open[n] = shutter[n] != 0;
  }
  // A point's exposure must end before the next row begins.
  for (int64_t n = 0; ok && !spec.fly && spec.time.present && n + 1 < t.rows; ++n) {
    const double gap = r.t_s[n + 1] - r.t_s[n];
    if (gap < r.exposure_s[n] * (1 - 1e-9)) {
      bad(spec.time, n + 1,
          "starts " + fmt_g(gap, 6) + " s after the row before, whose exposure lasts " + fmt_g(r.exposure_s[n], 6) + " s",
          "the time column must give each exposure's start (check its unit, and exposure_s)");
      ok = false;
    }
  }
  if (!ok) return nullptr;
  return rows;
}

}  // namespace dosemap

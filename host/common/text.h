// Small text helpers shared by the readers and the CLI: suggestions for typos, number
// formatting, and aligned tables for terminal reports.
#pragma once

#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace dosemap {

// The candidate closest to `word` (case-insensitive edit distance), or "" when none is
// close enough to be a plausible typo.
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

// "did you mean 'x'?" or "" (for appending to a fix text).
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);

// `s` with every byte that is not part of a valid UTF-8 sequence replaced by U+FFFD, for
// text that goes into JSON or file metadata (a scene file's name need not be UTF-8).
std::string valid_utf8(const std::string& s);

// "a, b or c"
std::string join_alternatives(const std::vector<std::string>& items, const std::string& last = "or");

// %.<sig>g without trailing noise: 0.1557, 2.44e+10, 27
std::string fmt_g(double v, int significant = 4);
// Fixed decimals: fmt_f(1.5, 2) = "1.50"
std::string fmt_f(double v, int decimals);
// 1.2 GB, 340 MB, 12 kB (decimal units)
std::string human_bytes(double bytes);
// 2.5 s, 28762 s (7 h 59 min)
std::string human_duration(double seconds);
// 1.23 MGy, 45.6 kGy, 12.3 Gy, 0.5 mGy
std::string human_dose(double gray);
// 1.2 kGy/s, 3.4 Gy/s
std::string human_rate(double gray_per_s);
// 45.2 s, 12 min 5 s, 3 h 12 min (a moment in a scan)
std::string human_time(double seconds);
// 12 345 678 (thin grouping for counts)
std::string group_digits(long long n);

// A terminal table: a header row (none when all its cells are empty), then rows; cells
// holding one number are right-aligned, text left-aligned.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}
  void add_row(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  void print(std::ostream& out, const std::string& indent = "  ") const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

// "key   value" lines with the values aligned, for overviews.
void print_fields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields,
                  const std::string& indent = "  ");

}  // namespace dosemap

// Typed, strict look-ups over toml++ tables. Every value read is checked for type, range
// and finiteness; every key not in the table's list of allowed keys is an error with a
// suggestion. Problems are collected in Diagnostics with the file:line:col of the value.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "host/common/errors.h"

namespace dosemap {

// Which numbers a key accepts.
struct NumberRule {
  enum Kind { kAny, kPositive, kNonNegative } kind = kAny;
  double min = -1e300;  // inclusive bounds, applied after `kind`
  double max = 1e300;
  // "positive number", "numbers between 1 and 500", "positive number of at most 1e+30"
  std::string describe(bool plural) const;
  bool accepts(double v) const;
};
inline NumberRule positive() { return {NumberRule::kPositive}; }
inline NumberRule non_negative() { return {NumberRule::kNonNegative}; }
inline NumberRule any_number() { return {NumberRule::kAny}; }
inline NumberRule in_range(double lo, double hi) { return {NumberRule::kAny, lo, hi}; }
inline NumberRule positive_up_to(double hi) { return {NumberRule::kPositive, -1e300, hi}; }

SourcePos pos_of(const toml::source_region& r, const std::string& file);
// The TOML text of a value, for "got ..." in messages.
std::string toml_text(const toml::node& n);

class TableView {
 public:
  // `name` is how the table is shown to the user: "[beam]", "[[scan.steps]] #2".
  TableView(const toml::table& table, std::string name, std::string file, Diagnostics& diag,
            std::vector<std::string> allowed_keys);

  const std::string& name() const { return name_; }
  SourcePos pos() const;
  SourcePos pos(std::string_view key) const;  // the value's position, or the table's
  const toml::node* node(std::string_view key) const;
  bool has(std::string_view key) const { return node(key) != nullptr; }

  // Each returns nullopt after recording a diagnostic (or when an optional key is absent).
  std::optional<double> number(std::string_view key, NumberRule rule, bool required,
                               std::string_view example = {});
  template <size_t N>
  std::optional<std::array<double, N>> numbers(std::string_view key, NumberRule rule, bool required,
                                               std::string_view example = {});
  std::optional<std::vector<double>> number_list(std::string_view key, NumberRule rule, size_t min_count,
                                                 bool required, std::string_view example = {});
  std::optional<long long> integer(std::string_view key, long long min, long long max, bool required);
  std::optional<std::string> string(std::string_view key, bool required, std::string_view example = {});
  std::optional<std::string> choice(std::string_view key, const std::vector<std::string>& allowed,
                                    bool required);
  const toml::array* array(std::string_view key, bool required, std::string_view example = {});
  const toml::table* table(std::string_view key, bool required);

  // Reports a key that belongs in this kind of table but not with the other keys given
  // (e.g. fwhm_um with a top-hat profile); the key is then not also reported as unknown.
  void reject(std::string_view key, const std::string& why_and_fix);
  // Reports every key that is not in the allowed list.
  void check_unknown_keys();

  void error(std::string_view key, const std::string& what, const std::string& fix = {});
  void error_here(const std::string& what, const std::string& fix = {});

 private:
  void missing(std::string_view key, std::string_view expected, std::string_view example);
  std::optional<std::vector<double>> read_numbers(std::string_view key, NumberRule rule, size_t min_count,
                                                  size_t exact_count, bool required, std::string_view example);

  const toml::table& table_;
  std::string name_;
  std::string file_;
  Diagnostics& diag_;
  std::vector<std::string> allowed_;
};

template <size_t N>
std::optional<std::array<double, N>> TableView::numbers(std::string_view key, NumberRule rule, bool required,
                                                        std::string_view example) {
  auto v = read_numbers(key, rule, N, N, required, example);
  if (!v) return std::nullopt;
  std::array<double, N> out{};
  for (size_t i = 0; i < N; ++i) out[i] = (*v)[i];
  return out;
}

// Refuses a document whose dotted keys or nested arrays and inline tables go deeper than
// the scene limits (host/scene/scene_limits.h), before the TOML parser sees it: the
// parser and the tree it builds recurse once per level, and 100 000 levels overflow the
// stack. Records a diagnostic at the first place too deep and returns false.
bool check_toml_nesting(std::string_view text, const std::string& file, Diagnostics& diag);

// Reads one number out of any node (integer or float), finite only.
std::optional<double> as_finite_number(const toml::node& n);

}  // namespace dosemap

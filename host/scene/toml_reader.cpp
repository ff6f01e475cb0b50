#include "host/scene/toml_reader.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "host/common/text.h"
#include "host/scene/scene_limits.h"

namespace dosemap {

std::string NumberRule::describe(bool plural) const {
  std::string s = kind == kPositive ? "positive " : kind == kNonNegative ? "non-negative " : "";
  s += plural ? "numbers" : "number";
  const bool lo = min > -1e299, hi = max < 1e299;
  if (lo && hi) s += " between " + fmt_g(min, 6) + " and " + fmt_g(max, 6);
  else if (lo) s += " of at least " + fmt_g(min, 6);
  else if (hi) s += " of at most " + fmt_g(max, 6);
  return s;
}

bool NumberRule::accepts(double v) const {
  if (!std::isfinite(v)) return false;
  if (kind == kPositive && !(v > 0)) return false;
  if (kind == kNonNegative && !(v >= 0)) return false;
  return v >= min && v <= max;
}

SourcePos pos_of(const toml::source_region& r, const std::string& file) {
  return {file, static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
}

std::string toml_text(const toml::node& n) {
  // Compact, as a user would write it: [20], -1e+10, "tophat".
  std::string s;
  if (const auto* a = n.as_array()) {
    s = "[";
    for (size_t i = 0; i < a->size(); ++i) s += (i ? ", " : "") + toml_text((*a)[i]);
    s += "]";
  } else if (const auto* f = n.as_floating_point()) {
    s = fmt_g(f->get(), 10);
  } else if (const auto* str = n.as_string()) {
    s = "\"" + str->get() + "\"";
  } else {
    std::ostringstream os;
    n.visit([&](auto&& v) { os << v; });
    s = os.str();
  }
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

std::optional<double> as_finite_number(const toml::node& n) {
  double v;
  if (auto i = n.as_integer()) v = static_cast<double>(i->get());
  else if (auto f = n.as_floating_point()) v = f->get();
  else return std::nullopt;
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

bool check_toml_nesting(std::string_view text, const std::string& file, Diagnostics& diag) {
  // A light scan, not a parser: it skips strings and comments, and counts, per stretch
  // between the characters that end a key or a value (= , [ ] { } newline), the dots
  // outside strings, and the depth of brackets opened in values. A key of n parts has
  // n - 1 dots in one stretch; a valid value has at most one (1.5, a time's fraction).
  int line = 1, column = 0;
  size_t i = 0;
  int dots = 0, depth = 0;
  bool line_start = true;  // only whitespace so far on this line
  auto at = [&](size_t k) { return k < text.size() ? text[k] : '\0'; };
  auto advance = [&]() {
    if (text[i] == '\n') {
      ++line;
      column = 0;
    } else {
      ++column;
    }
    ++i;
  };
  auto skip_string = [&](char quote) {
    const bool multi = at(i + 1) == quote && at(i + 2) == quote;
    for (int n = 0; n < (multi ? 3 : 1); ++n) advance();
    while (i < text.size()) {
      if (quote == '"' && text[i] == '\\') {
        advance();
        if (i < text.size()) advance();
        continue;
      }
      if (!multi && text[i] == '\n') return;  // unterminated: the parser will say so
      if (text[i] == quote && (!multi || (at(i + 1) == quote && at(i + 2) == quote))) {
        for (int n = 0; n < (multi ? 3 : 1); ++n) advance();
        return;
      }
      advance();
    }
  };
  while (i < text.size()) {
    const char c = text[i];
    if (c == '"' || c == '\'') {
      skip_string(c);
      line_start = false;
      continue;
    }
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') advance();
      continue;
    }
    if (c == '.') {
      if (++dots >= kMaxKeyDepth) {
        diag.error({file, line, column + 1},
                   "a key here has more than " + std::to_string(kMaxKeyDepth) + " dotted parts",
                   "scene keys nest at most 3 deep (e.g. materials.NAME.formula); check the key");
        return false;
      }
    } else if (c == '=' || c == ',' || c == '\n' || c == ']' || c == '}') {
      dots = 0;
      if ((c == ']' || c == '}') && depth > 0) --depth;
    } else if (c == '[' || c == '{') {
      dots = 0;
      // A table header ([a.b] or [[a.b]]) starts a line outside any value.
      const bool header = c == '[' && line_start && depth == 0;
      if (!header && ++depth > kMaxValueNesting) {
        diag.error({file, line, column + 1},
                   "arrays or inline tables nest more than " + std::to_string(kMaxValueNesting) + " deep here",
                   "scene values nest at most 2 deep (e.g. path_um = [[0.0, 0.0], [10.0, 0.0]])");
        return false;
      }
      if (header) {
        if (at(i + 1) == '[') advance();
        advance();
        line_start = false;
        continue;
      }
    }
    if (c == '\n') line_start = true;
    else if (c != ' ' && c != '\t' && c != '\r') line_start = false;
    advance();
  }
  return true;
}

namespace {
const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "a date/time";
  }
}
}  // namespace

TableView::TableView(const toml::table& table, std::string name, std::string file, Diagnostics& diag,
                     std::vector<std::string> allowed_keys)
    : table_(table), name_(std::move(name)), file_(std::move(file)), diag_(diag), allowed_(std::move(allowed_keys)) {}

SourcePos TableView::pos() const { return pos_of(table_.source(), file_); }

SourcePos TableView::pos(std::string_view key) const {
  if (const toml::node* n = node(key)) return pos_of(n->source(), file_);
  return pos();
}

const toml::node* TableView::node(std::string_view key) const { return table_.get(key); }

void TableView::error(std::string_view key, const std::string& what, const std::string& fix) {
  diag_.error(pos(key), name_ + " " + std::string(key) + " " + what, fix);
}

void TableView::error_here(const std::string& what, const std::string& fix) {
  diag_.error(pos(), name_ + " " + what, fix);
}

void TableView::missing(std::string_view key, std::string_view expected, std::string_view example) {
  // A misspelt key ("fwhm" for "fwhm_um") is reported once, as unknown with a suggestion.
  for (auto&& [k, v] : table_) {
    const std::string present(k.str());
    if (std::find(allowed_.begin(), allowed_.end(), present) != allowed_.end()) continue;
    if (!closest_match(present, {std::string(key)}).empty()) return;
  }
  std::string fix = "add " + std::string(key) + " = " + (example.empty() ? std::string("...") : std::string(example));
  diag_.error(pos(), name_ + " is missing " + std::string(key) + " (" + std::string(expected) + ")", fix);
}

std::optional<double> TableView::number(std::string_view key, NumberRule rule, bool required,
                                         std::string_view example) {
  const toml::node* n = node(key);
  const std::string expected = "a " + rule.describe(false);
  if (!n) {
    if (required) missing(key, expected, example);
    return std::nullopt;
  }
  if (!n->is_number()) {
    error(key, "must be " + expected + ", got " + type_name(*n) + " " + toml_text(*n),
          example.empty() ? "" : "write e.g. " + std::string(key) + " = " + std::string(example));
    return std::nullopt;
  }
  auto v = as_finite_number(*n);
  if (!v || !rule.accepts(*v)) {
    error(key, "must be " + expected + ", got " + toml_text(*n),
          example.empty() ? "" : "write e.g. " + std::string(key) + " = " + std::string(example));
    return std::nullopt;
  }
  return v;
}

std::optional<std::vector<double>> TableView::read_numbers(std::string_view key, NumberRule rule,
                                                           size_t min_count, size_t exact_count, bool required,
                                                           std::string_view example) {
  const toml::node* n = node(key);
  const std::string expected = (exact_count ? std::to_string(exact_count) : "at least " + std::to_string(min_count)) +
                               " " + rule.describe(true);
  const std::string fix = example.empty() ? "" : "write e.g. " + std::string(key) + " = " + std::string(example);
  if (!n) {
    if (required) missing(key, expected, example);
    return std::nullopt;
  }
  const toml::array* a = n->as_array();
  bool ok = a && (exact_count ? a->size() == exact_count : a->size() >= min_count);
  std::vector<double> out;
  if (ok) {
    for (const auto& e : *a) {
      auto v = as_finite_number(e);
      if (!v || !rule.accepts(*v)) {
        ok = false;
        break;
      }
      out.push_back(*v);
    }
  }
  if (!ok) {
    error(key, "must have " + expected + ", got " + toml_text(*n), fix);
    return std::nullopt;
  }
  return out;
}

std::optional<std::vector<double>> TableView::number_list(std::string_view key, NumberRule rule, size_t min_count,
                                                          bool required, std::string_view example) {
  return read_numbers(key, rule, min_count, 0, required, example);
}

std::optional<long long> TableView::integer(std::string_view key, long long min, long long max, bool required) {
  const toml::node* n = node(key);
  const std::string expected = "a whole number between " + std::to_string(min) + " and " + std::to_string(max);
  if (!n) {
    if (required) missing(key, expected, std::to_string(min));
    return std::nullopt;
  }
  const auto* i = n->as_integer();
  if (!i || i->get() < min || i->get() > max) {
    error(key, "must be " + expected + ", got " + toml_text(*n),
          n->is_floating_point() ? "write it without a decimal point"
          : n->is_string()       ? "write the number without quotes"
                                 : "");
    return std::nullopt;
  }
  return i->get();
}

std::optional<std::string> TableView::string(std::string_view key, bool required, std::string_view example) {
  const toml::node* n = node(key);
  if (!n) {
    if (required) missing(key, "a string", example);
    return std::nullopt;
  }
  const auto* s = n->as_string();
  if (!s) {
    error(key, std::string("must be a string, got ") + type_name(*n) + " " + toml_text(*n),
          "put the value in double quotes");
    return std::nullopt;
  }
  return s->get();
}

std::optional<std::string> TableView::choice(std::string_view key, const std::vector<std::string>& allowed,
                                             bool required) {
  std::vector<std::string> quoted;
  for (const auto& a : allowed) quoted.push_back("\"" + a + "\"");
  const toml::node* n = node(key);
  if (!n) {
    if (required) missing(key, "one of " + join_alternatives(quoted), quoted.front());
    return std::nullopt;
  }
  const auto* s = n->as_string();
  if (!s) {
    error(key, "must be one of " + join_alternatives(quoted) + ", got " + toml_text(*n));
    return std::nullopt;
  }
  for (const auto& a : allowed)
    if (s->get() == a) return a;
  std::string fix = did_you_mean(s->get(), allowed);
  error(key, "must be one of " + join_alternatives(quoted) + ", got " + toml_text(*n), fix);
  return std::nullopt;
}

const toml::array* TableView::array(std::string_view key, bool required, std::string_view example) {
  const toml::node* n = node(key);
  if (!n) {
    if (required) missing(key, "an array", example);
    return nullptr;
  }
  const auto* a = n->as_array();
  if (!a) error(key, std::string("must be an array, got ") + type_name(*n) + " " + toml_text(*n),
                example.empty() ? "" : "write e.g. " + std::string(key) + " = " + std::string(example));
  return a;
}

const toml::table* TableView::table(std::string_view key, bool required) {
  const toml::node* n = node(key);
  if (!n) {
    if (required) missing(key, "a table", "{ ... }");
    return nullptr;
  }
  const auto* t = n->as_table();
  if (!t) error(key, std::string("must be a table, got ") + type_name(*n) + " " + toml_text(*n));
  return t;
}

void TableView::reject(std::string_view key, const std::string& why_and_fix) {
  // Known here, just not with these other keys: never also "unknown".
  if (std::find(allowed_.begin(), allowed_.end(), key) == allowed_.end()) allowed_.emplace_back(key);
  if (has(key)) diag_.error(pos(key), name_ + " " + std::string(key) + " " + why_and_fix);
}

void TableView::check_unknown_keys() {
  for (auto&& [k, v] : table_) {
    const std::string key(k.str());
    bool known = false;
    for (const auto& a : allowed_) known = known || a == key;
    if (known) continue;
    std::string fix = did_you_mean(key, allowed_);
    if (fix.empty()) fix = "allowed keys here: " + join_alternatives(allowed_, "and");
    diag_.error(pos_of(k.source(), file_), "unknown key '" + key + "' in " + name_, fix);
  }
}

}  // namespace dosemap

#include "host/common/errors.h"

#include <algorithm>
#include <cctype>

#include "host/common/text.h"

namespace dosemap {

std::string Diagnostic::format(const char* severity) const {
  std::string s;
  if (!where.file.empty()) {
    s += where.file;
    if (where.line > 0) {
      s += ":" + std::to_string(where.line);
      if (where.column > 0) s += ":" + std::to_string(where.column);
    }
    s += ": ";
  } else {
    s += "dosemap: ";
  }
  s += std::string(severity) + ": " + what;
  if (!fix.empty()) s += "; " + fix;
  return s;
}

namespace {
std::string join(const std::vector<Diagnostic>& d) {
  std::string s;
  for (const auto& x : d) {
    if (!s.empty()) s += "\n";
    s += x.format();
  }
  return s;
}
}  // namespace

UserError::UserError(std::vector<Diagnostic> diagnostics)
    : std::runtime_error(join(diagnostics)), diagnostics_(std::move(diagnostics)) {}

UserError::UserError(SourcePos where, std::string what, std::string fix)
    : UserError(std::vector<Diagnostic>{{std::move(where), std::move(what), std::move(fix)}}) {}

std::string diagnostic_kind(const std::string& what) {
  std::string kind;
  kind.reserve(what.size());
  char quote = 0;
  for (char c : what) {
    if (quote) {
      if (c == quote) {
        kind += c;
        quote = 0;
      }
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      kind += c;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      if (kind.empty() || kind.back() != '#') kind += '#';
    } else {
      kind += c;
    }
  }
  return kind;
}

void Diagnostics::error(SourcePos where, std::string what, std::string fix) {
  Kind& kind = kinds_[diagnostic_kind(what)];
  if (kind.kept < kKeptPerKind) {
    ++kind.kept;
    list_.push_back({std::move(where), std::move(what), std::move(fix)});
    return;
  }
  if (kind.suppressed++ == 0) kind.first_suppressed = std::move(where);
  ++suppressed_total_;
}

void Diagnostics::throw_if_any() const {
  if (list_.empty()) return;
  // Top to bottom, as a user reads the file; file-level problems (line 0) first. The count
  // of a kind's suppressed errors follows its last kept one.
  std::vector<Diagnostic> sorted = list_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.where.file != b.where.file) return false;
    return a.where.line != b.where.line ? a.where.line < b.where.line : a.where.column < b.where.column;
  });
  if (suppressed_total_ == 0) throw UserError(sorted);
  std::vector<Diagnostic> out;
  std::unordered_map<std::string, size_t> kept_left;
  for (const Diagnostic& d : sorted) {
    out.push_back(d);
    const std::string key = diagnostic_kind(d.what);
    const Kind& kind = kinds_.at(key);
    auto left = kept_left.try_emplace(key, kind.kept).first;
    if (kind.suppressed == 0 || --left->second > 0) continue;
    out.push_back({kind.first_suppressed,
                   "... and " + group_digits(static_cast<long long>(kind.suppressed)) +
                       " more like this (the next one here)",
                   ""});
  }
  throw UserError(out);
}

}  // namespace dosemap

#include "host/common/errors.h"

#include <algorithm>

namespace dosemap {

std::string Diagnostic::format() const {
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
  s += "error: " + what;
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

void Diagnostics::error(SourcePos where, std::string what, std::string fix) {
  list_.push_back({std::move(where), std::move(what), std::move(fix)});
}

void Diagnostics::throw_if_any() const {
  if (list_.empty()) return;
  // Top to bottom, as a user reads the file; file-level problems (line 0) first.
  std::vector<Diagnostic> sorted = list_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Diagnostic& a, const Diagnostic& b) {
    if (a.where.file != b.where.file) return false;
    return a.where.line != b.where.line ? a.where.line < b.where.line : a.where.column < b.where.column;
  });
  throw UserError(sorted);
}

}  // namespace dosemap

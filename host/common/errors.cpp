#include "host/common/errors.h"

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
  if (!list_.empty()) throw UserError(list_);
}

}  // namespace dosemap

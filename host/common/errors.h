// One error path for user mistakes (file:line:col, what, how to fix; exit code 2) and one
// for bugs (exit code 1). User errors are collected, so one `check` shows every mistake.
#pragma once

#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace dosemap {

enum ExitCode : int { kExitOk = 0, kExitBug = 1, kExitUserError = 2 };

// A place in a user's file. line/column are 1-based; 0 means "the whole file" (or no file).
struct SourcePos {
  std::string file;
  int line = 0;
  int column = 0;
};

struct Diagnostic {
  SourcePos where;
  std::string what;  // what is wrong
  std::string fix;   // how to fix it (may be empty when the message says it all)
  // "file:line:col: error: what; fix" (or another severity: "warning")
  std::string format(const char* severity = "error") const;
};

// A mistake of the user (bad scene, bad argument, missing file): exit code 2.
class UserError : public std::runtime_error {
 public:
  explicit UserError(std::vector<Diagnostic> diagnostics);
  UserError(SourcePos where, std::string what, std::string fix = {});
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

// Collects user errors so that a reader can report all of them at once. A scene with the
// same mistake thousands of times (a generated file) gets the first few of each kind and
// one line "... and N more like this", so neither memory nor the report explodes.
class Diagnostics {
 public:
  // Diagnostics kept per kind; a kind is the message with its numbers and quoted names
  // taken out ("[[sample.layers]] #7 (copper) ..." and "#8 (copper)" are one kind).
  static constexpr size_t kKeptPerKind = 5;

  void error(SourcePos where, std::string what, std::string fix = {});
  // Errors recorded, including those counted but not kept.
  bool empty() const { return list_.empty(); }
  size_t size() const { return list_.size() + suppressed_total_; }
  // The kept diagnostics, in the order recorded.
  const std::vector<Diagnostic>& list() const { return list_; }
  // Throws UserError with everything collected so far, if anything was.
  void throw_if_any() const;

 private:
  struct Kind {
    size_t kept = 0;
    size_t suppressed = 0;
    SourcePos first_suppressed;
  };
  std::vector<Diagnostic> list_;
  std::unordered_map<std::string, Kind> kinds_;
  size_t suppressed_total_ = 0;
};

// The kind of a message: digits and the text inside quotes replaced, so messages that
// differ only in numbers or names compare equal.
std::string diagnostic_kind(const std::string& what);

// A broken invariant inside dosemap: exit code 1.
#define DOSEMAP_BUG_CHECK(cond, msg)                                                       \
  do {                                                                                     \
    if (!(cond))                                                                           \
      throw std::logic_error(std::string("internal error at ") + __FILE__ + ":" +          \
                             std::to_string(__LINE__) + ": " + (msg));                     \
  } while (0)

}  // namespace dosemap

#include "host/outputs/output_files.h"

#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "host/common/errors.h"

namespace dosemap {

namespace fs = std::filesystem;

void check_output_dir(const std::string& dir, bool overwrite) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw UserError(SourcePos{dir, 0, 0}, "exists and is not a directory", "choose another -o DIR");
  bool earlier = false;
  for (const char* f : {"summary.json", "dose.vdb", "dose.vti", "dose.pvd", "dose_history.json", "frames"})
    earlier = earlier || fs::exists(fs::path(dir) / f, ec);
  if (!overwrite && earlier)
    throw UserError(SourcePos{dir, 0, 0}, "already holds the results of a dosemap run",
                    "choose another -o DIR, or pass --overwrite to replace them");
}

void create_output_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw UserError(SourcePos{dir, 0, 0}, "cannot create output directory: " + ec.message(), "check the path and permissions");
}

void write_atomically(const std::string& path, const std::function<void(const std::string&)>& write) {
  const fs::path p(path);
  const fs::path tmp = p.parent_path() / ("." + p.filename().string() + ".partial-" + std::to_string(::getpid()));
  try {
    write(tmp.string());
    fs::rename(tmp, p);
  } catch (...) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw;
  }
}

}  // namespace dosemap

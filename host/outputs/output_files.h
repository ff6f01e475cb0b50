// Writing a run's directory safely: files appear only when complete (written under a
// temporary name, then renamed), and a directory holding an earlier run is never
// overwritten unless asked.
#pragma once

#include <functional>
#include <string>

namespace dosemap {

// Throws UserError when `dir` cannot be used: it is a file, or holds an earlier run and
// `overwrite` is false. Does not create anything.
void check_output_dir(const std::string& dir, bool overwrite);

// Creates `dir` (and parents) if needed.
void create_output_dir(const std::string& dir);

// Calls write(tmp_path) for a temporary name next to `path`, then renames it to `path`.
// On any exception the temporary file is removed and the exception rethrown.
void write_atomically(const std::string& path, const std::function<void(const std::string&)>& write);

}  // namespace dosemap

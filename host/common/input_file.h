// Reading a file the user named (a scene, a beam image): only a regular file, and only up
// to a size limit, so that a typo such as /dev/zero, a FIFO or a directory is a clear error
// instead of a hang or an exhausted memory.
#pragma once

#include <cstdint>
#include <string>

namespace dosemap {

// Reads the whole file into `out`. Throws UserError at {path, 0, 0} saying what `what` (e.g.
// "scene file") is wrong: missing, unreadable, not a regular file, or over max_bytes.
void read_small_file(const std::string& path, const std::string& what, int64_t max_bytes, std::string& out);

}  // namespace dosemap

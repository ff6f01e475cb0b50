// An integrity record at the end of the files dosemap writes for keeping (dose.vdb and the
// VDB frames): 32 bytes after the format's own content, holding that content's length and
// its XXH3-64 hash. Readers of the format ignore bytes past the last grid; `dosemap info`
// and dosemap's own readers check the record first, so a truncated or altered file is
// refused at once with a clear message instead of reaching the format's parser.
#pragma once

#include <cstdint>
#include <string>

namespace dosemap {

class CheckedFile;

inline constexpr int64_t kIntegrityFooterBytes = 32;

// Hashes what `file` holds so far and appends the record.
void append_integrity_footer(CheckedFile& file);

// Throws UserError naming `path` when the file is missing, shorter than its record says,
// altered, or has no record (not written by this dosemap, or cut off). Returns the length
// of the content before the record.
int64_t verify_integrity_footer(const std::string& path);

}  // namespace dosemap

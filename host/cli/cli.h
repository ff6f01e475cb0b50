// The dosemap command line: parses arguments (CLI11), runs one command, and turns every
// failure into its exit code: 2 for user mistakes (with file:line:col), 1 for bugs.
#pragma once

#include <ostream>

namespace dosemap {

int run_cli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace dosemap

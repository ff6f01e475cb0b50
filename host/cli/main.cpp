#include <iostream>

#include "host/cli/cli.h"

int main(int argc, char** argv) { return dosemap::run_cli(argc, argv, std::cout, std::cerr); }

// cmfd copy: copies every row of one database into another, empty one,
// keeping ids and dates, e.g. from the SQLite file of a single server to the
// PostgreSQL database that several servers share.
#pragma once

#include <CLI/CLI.hpp>

namespace cmfd {

void AddCopyCommand(CLI::App& app);

}  // namespace cmfd

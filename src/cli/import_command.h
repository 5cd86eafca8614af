// cmfd import: bulk loading of NDJSON files straight into the database.
#pragma once

#include <CLI/CLI.hpp>

namespace cmfd {

// Adds the `import` subcommand to `app`.
void AddImportCommand(CLI::App& app);

}  // namespace cmfd

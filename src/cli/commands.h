// The subcommands of the cmfd binary. Each file in this folder adds one
// subcommand, with its options and the code that runs it, through one
// Add...Command function; main() calls them all. A command that fails
// prints why to standard error and throws CLI::RuntimeError with the exit
// code (see Fail).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "config/config.h"
#include "storage/store.h"

namespace cmfd {

void AddServeCommand(CLI::App& app);
void AddApiKeyCommand(CLI::App& app);

// The options of every command that opens the database.
struct DatabaseOptions {
  std::string config_file;  // empty: no file
  std::string database;     // empty: from the file, else the default
};

// Adds --database and --config to `command`.
void AddDatabaseOptions(CLI::App& command, DatabaseOptions& options);

// Prints "cmfd: <message>" to standard error and throws
// CLI::RuntimeError(exit_code), which main() turns into the exit code.
[[noreturn]] void Fail(const std::string& message, int exit_code = 1);

// Returns the defaults, overridden by the --config file, overridden by
// --database. Fails (see Fail) on a bad file.
Config LoadConfigOrFail(const DatabaseOptions& options);

// Opens the store that `config` names. Fails (see Fail) when it cannot.
std::unique_ptr<Store> OpenStoreOrFail(const Config& config);

}  // namespace cmfd

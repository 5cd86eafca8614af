// Helpers that every command uses: the database options, configuration
// loading and opening the store.
#include <iostream>

#include "cli/commands.h"
#include "http/redact.h"

namespace cmfd {

void AddDatabaseOptions(CLI::App& command, DatabaseOptions& options) {
  command
      .add_option("--database", options.database,
                  "SQLite database file (created when missing), or a postgresql:// URL "
                  "(default: the config file's `database`, else cmf.db)")
      ->type_name("PATH_OR_URL");
  command
      .add_option("--config", options.config_file,
                  "TOML configuration file with limits, extra customer fields and save checks; "
                  "command-line options override it (default: none)")
      ->type_name("FILE");
}

void Fail(const std::string& message, int exit_code) {
  std::cerr << "cmfd: " << message << std::endl;
  throw CLI::RuntimeError(exit_code);
}

Config LoadConfigOrFail(const DatabaseOptions& options) {
  Config config;
  if (!options.config_file.empty()) {
    Status status = LoadConfigFile(options.config_file, config);
    if (!status.ok()) {
      std::string message = "invalid configuration:";
      for (const std::string& problem : status.messages()) message += "\n  " + problem;
      Fail(message);
    }
  }
  if (!options.database.empty()) config.database = options.database;
  return config;
}

std::unique_ptr<Store> OpenStoreOrFail(const Config& config) {
  StoreOptions store_options;
  store_options.customer = config.customer;
  store_options.pool_size = config.pool_size;
  store_options.durability = config.durability;
  Result<std::unique_ptr<Store>> store = OpenStore(config.database, store_options);
  if (!store.ok()) {
    Fail("cannot open database " + RedactDatabase(config.database) + ": " +
         store.status().message());
  }
  return std::move(store.value());
}

}  // namespace cmfd

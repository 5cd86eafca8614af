// cmfd copy: reads the source database in one snapshot and writes it into
// the target in one transaction, so that a failed copy leaves the target
// empty.
//
// Exit codes: 0 copied; 1 a configuration or database error, or a target
// that is not empty (nothing was written).
#include "cli/copy_command.h"

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/commands.h"
#include "http/redact.h"

namespace cmfd {

namespace {

struct CopyOptions {
  std::string from;
  std::string to;
  std::string config_file;
};

// A name that is neither a URL nor a libpq keyword string is an SQLite file.
bool IsFilePath(const std::string& database) {
  return database.find("://") == std::string::npos && database.find('=') == std::string::npos;
}

std::unique_ptr<Store> OpenOrFail(Config config, const std::string& database) {
  config.database = database;
  return OpenStoreOrFail(config);
}

void RunCopy(const CopyOptions& options) {
  if (options.from == options.to) Fail("--from and --to name the same database");
  // Opening a missing SQLite file would create an empty one and copy nothing.
  if (IsFilePath(options.from) && !std::filesystem::exists(options.from)) {
    Fail("source database " + options.from + " does not exist");
  }

  DatabaseOptions database_options;
  database_options.config_file = options.config_file;
  Config config = LoadConfigOrFail(database_options);
  std::unique_ptr<Store> source = OpenOrFail(config, options.from);
  std::unique_ptr<Store> target = OpenOrFail(config, options.to);

  const std::string from = RedactDatabase(options.from);
  const std::string to = RedactDatabase(options.to);
  Result<std::unique_ptr<CopyTarget>> copy = target->BeginCopy();
  if (!copy.ok()) Fail("cannot copy into " + to + ": " + copy.status().message());

  Status exported = source->ExportAll(*copy.value());
  if (!exported.ok()) {
    Fail("copy from " + from + " failed, nothing was written to " + to + ": " +
         exported.message());
  }
  Result<CopyCounts> counts = copy.value()->Commit();
  if (!counts.ok()) {
    Fail("copy into " + to + " failed, nothing was written: " + counts.status().message());
  }

  const CopyCounts& c = counts.value();
  std::cout << fmt::format("copied {} to {}\n", from, to)
            << fmt::format("customers: {}\n", c.customers)
            << fmt::format("segment groups: {}\n", c.segment_groups)
            << fmt::format("segments: {}\n", c.segments)
            << fmt::format("segment assignments: {}\n", c.assignments)
            << fmt::format("activities: {}\n", c.activities)
            << fmt::format("deletions: {}\n", c.deletions)
            << fmt::format("API keys: {}\n", c.api_keys);
}

}  // namespace

void AddCopyCommand(CLI::App& app) {
  auto options = std::make_shared<CopyOptions>();
  CLI::App* command = app.add_subcommand(
      "copy",
      "Copy every customer, activity, deletion, segment group, segment, segment assignment and "
      "API key of one database into another, empty one, keeping ids and dates; for example from "
      "cmf.db to the PostgreSQL database of several servers. One transaction on the target: on "
      "any error nothing is written. Stop the servers of the source first, or the copy misses "
      "what they write after it began");
  command
      ->add_option("--from", options->from,
                   "source: SQLite database file or postgresql:// URL")
      ->type_name("PATH_OR_URL")
      ->required();
  command
      ->add_option("--to", options->to,
                   "target, which must be empty: SQLite database file (created when missing) "
                   "or postgresql:// URL")
      ->type_name("PATH_OR_URL")
      ->required();
  command
      ->add_option("--config", options->config_file,
                   "TOML configuration file of the servers; every stored extra customer field "
                   "is copied either way, but only the unique ones declared here get their "
                   "uniqueness index in the target")
      ->type_name("FILE");
  command->callback([options] { RunCopy(*options); });
}

}  // namespace cmfd

// cmfd import: reads customers, activities and segment assignments from
// NDJSON files (one API request body per line) and writes them into the
// database in large transactions, without a running server.
//
// Exit codes:
//   0  every file was read to its end; rejected lines are listed on standard error
//   1  a configuration, I/O or database error stopped the import; the batches
//      written before it stay written
//   2  no input file was given
//   3  with --strict: some lines were rejected (the valid ones were imported)
#include "cli/import_command.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "import/ndjson_import.h"

namespace cmfd {

namespace {

constexpr int kExitRejectedLines = 3;

struct ImportCommandOptions {
  DatabaseOptions database;
  std::string customers;
  std::string activities;
  std::string assignments;
  std::size_t batch_size = 10000;
  bool strict = false;
};

// 1234567 -> "1,234,567", for figures a person reads.
std::string Grouped(std::int64_t value) {
  std::string digits = std::to_string(value < 0 ? -value : value);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(i, ",");
  return value < 0 ? "-" + digits : digits;
}

double PerSecond(std::int64_t records, double seconds) {
  return seconds > 0 ? static_cast<double>(records) / seconds : 0;
}

void PrintFileReport(const ImportFileReport& report) {
  const std::int64_t written = report.created + report.updated;
  std::string line = fmt::format("{}: {}: {} lines, {} {}", ImportKindName(report.kind),
                                 report.path, Grouped(report.lines), Grouped(report.created),
                                 report.kind == ImportKind::kAssignments ? "applied" : "created");
  if (report.kind == ImportKind::kActivities) line += ", " + Grouped(report.updated) + " updated";
  line += fmt::format(", {} rejected in {:.2f} s ({} records/s)", Grouped(report.rejected),
                      report.seconds,
                      Grouped(std::llround(PerSecond(written, report.seconds))));
  std::cout << line << std::endl;
}

void RunImport(const ImportCommandOptions& options) {
  if (options.customers.empty() && options.activities.empty() && options.assignments.empty()) {
    Fail("nothing to import: give --customers, --activities or --assignments", 2);
  }
  Config config = LoadConfigOrFail(options.database);
  std::unique_ptr<Store> store = OpenStoreOrFail(config);

  ImportOptions import_options;
  import_options.batch_size = options.batch_size;
  import_options.max_line_bytes = config.max_body_bytes;

  // Bad lines go to standard error as "FILE:LINE: message", one message per
  // line when a record has several problems.
  auto on_bad_line = [](const std::string& path, std::int64_t line, const Status& status) {
    for (const std::string& message : status.messages()) {
      std::cerr << path << ":" << line << ": " << message << "\n";
    }
  };
  NdjsonImporter importer(*store, config.customer, import_options, on_bad_line);

  // Customers first, so that activities and assignments can refer to them.
  struct Input {
    const std::string& path;
    ImportKind kind;
  };
  const std::vector<Input> inputs = {{options.customers, ImportKind::kCustomers},
                                     {options.activities, ImportKind::kActivities},
                                     {options.assignments, ImportKind::kAssignments}};

  const auto started = std::chrono::steady_clock::now();

  // From here until FinishImport the store may keep indexes and counts
  // behind (into an empty database it rebuilds them at the end), so every
  // path below calls FinishImport. A crash in between is repaired the next
  // time a store opens the database.
  Status prepared = store->PrepareImport();
  if (!prepared.ok()) Fail("import could not start: " + prepared.message());

  std::int64_t written = 0;
  std::int64_t rejected = 0;
  for (const Input& input : inputs) {
    if (input.path.empty()) continue;
    Result<ImportFileReport> report = importer.ImportFile(input.path, input.kind);
    if (!report.ok()) {
      std::cerr << std::flush;
      Status finished = store->FinishImport();
      if (!finished.ok()) {
        std::cerr << "cmfd: rebuilding the indexes failed (the next cmfd command that opens "
                     "the database completes it): "
                  << finished.message() << std::endl;
      }
      Fail(std::string(ImportKindName(input.kind)) + " import stopped: " +
           report.status().message());
    }
    std::cerr << std::flush;
    PrintFileReport(report.value());
    written += report->created + report->updated;
    rejected += report->rejected;
  }

  Status finished = store->FinishImport();
  if (!finished.ok()) {
    Fail("rebuilding the indexes after the import failed (the next cmfd command that opens "
         "the database completes it): " + finished.message());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  std::cout << fmt::format("total: {} records written, {} lines rejected in {:.2f} s ({} records/s)",
                           Grouped(written), Grouped(rejected), seconds,
                           Grouped(std::llround(PerSecond(written, seconds))))
            << std::endl;
  if (rejected > 0 && options.strict) {
    Fail(Grouped(rejected) + " lines were rejected (--strict)", kExitRejectedLines);
  }
}

}  // namespace

void AddImportCommand(CLI::App& app) {
  auto options = std::make_shared<ImportCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "import",
      "Load NDJSON files (one API request body per line) straight into the database; "
      "customers first, then activities, then segment assignments; '-' as a file reads "
      "standard input. Exit code 0 even when lines were rejected (they are listed on standard "
      "error), 1 on an I/O or database error, 2 when no input file was given, 3 with --strict "
      "when any line was rejected; an invalid option prints its error and exits with another "
      "non-zero code");

  AddDatabaseOptions(*command, options->database);
  command
      ->add_option("--customers", options->customers,
                   "customers, one POST /customers body per line")
      ->type_name("FILE.ndjson");
  command
      ->add_option("--activities", options->activities,
                   "activities, one POST /activities body per line")
      ->type_name("FILE.ndjson");
  command
      ->add_option("--assignments", options->assignments,
                   "segment assignments, one POST /segments-of-customers body per line")
      ->type_name("FILE.ndjson");
  command
      ->add_option("--batch", options->batch_size,
                   "records per transaction (default: 10000)")
      ->type_name("N")
      ->check(CLI::Range(1, 1000000));
  command->add_flag("--strict", options->strict,
                    "exit with code 3 when any line was rejected (the valid lines are still "
                    "imported)");

  command->callback([options] { RunImport(*options); });
}

}  // namespace cmfd

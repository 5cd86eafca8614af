// NdjsonImporter: bulk loading of customers, activities and segment
// assignments from newline-delimited JSON files, for `cmfd import`.
//
// Each line is one record in the JSON of the API: a POST /customers body, a
// POST /activities body or a POST /segments-of-customers body. A line is
// parsed and validated by the same domain functions as the API request, so
// it is accepted exactly when the request would be. Valid records are
// written with Store::Import in batches (one transaction per batch on
// backends that implement it so).
//
// A bad line is reported through the BadLineHandler with its line number and
// every message, and the import goes on. Bad lines are invalid JSON, a field
// that breaks a rule, a store rule such as an unknown customer id or a
// duplicate unique value, and lines longer than the body limit. Only an I/O
// or database error stops the import; the batches written before it stay.
//
// Parsing and writing overlap: while the store writes one batch on a worker
// thread, the next batch is parsed. Bad lines are still reported in line
// order.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "storage/store.h"
#include "util/status.h"

namespace cmfd {

enum class ImportKind { kCustomers, kActivities, kAssignments };

// "customers", "activities" or "assignments".
std::string_view ImportKindName(ImportKind kind);

// The maximum number of lines in the first batch of a file (see ImportOptions).
inline constexpr std::size_t kFirstBatchSize = 1000;

struct ImportOptions {
  // Records per Store::Import call. Larger batches mean fewer transactions;
  // memory grows with the batch (roughly 1 KiB per record). The first batch
  // of a file contains at most kFirstBatchSize lines, so that the store starts
  // writing while the rest of the file is parsed.
  std::size_t batch_size = 10000;
  // Lines longer than this are rejected without being parsed, as the API
  // rejects larger bodies (Config::max_body_bytes).
  std::uint64_t max_line_bytes = 1 << 20;
};

// The outcome of importing one file.
struct ImportFileReport {
  std::string path;
  ImportKind kind = ImportKind::kCustomers;
  std::int64_t lines = 0;     // non-blank lines read
  std::int64_t created = 0;   // customers or activities created, assignments applied
  std::int64_t updated = 0;   // activities that replaced one with the same customer, type and a_id
  std::int64_t rejected = 0;  // bad lines
  double seconds = 0;         // wall time from opening the file to the last commit
};

// Receives each line that was not imported: the file, its 1-based line
// number and why (every message of `status`).
using BadLineHandler =
    std::function<void(const std::string& path, std::int64_t line, const Status& status)>;

class NdjsonImporter {
 public:
  // `store` and `schema` must outlive the importer. The schema decides the
  // extra customer fields a customer line may carry.
  NdjsonImporter(Store& store, const CustomerSchema& schema, ImportOptions options,
                 BadLineHandler on_bad_line);

  // Imports every line of `path` ("-" for standard input) as a record of
  // `kind`. A non-ok Result is an I/O or database error.
  Result<ImportFileReport> ImportFile(const std::string& path, ImportKind kind);

 private:
  Store& store_;
  const CustomerSchema& schema_;
  ImportOptions options_;
  BadLineHandler on_bad_line_;
};

// Parsing of single lines, exposed for tests. Each checks `line` as the API
// checks the body of the matching create request and returns the record to
// store, or the Status the API would answer with.
Result<Customer> ParseCustomerLine(std::string_view line, const CustomerSchema& schema);
Result<Activity> ParseActivityLine(std::string_view line);
Result<SegmentAssignment> ParseAssignmentLine(std::string_view line);

}  // namespace cmfd

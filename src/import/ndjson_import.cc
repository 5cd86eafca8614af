#include "import/ndjson_import.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <memory>
#include <utility>
#include <vector>

#include "domain/activity_json.h"
#include "domain/customer_json.h"
#include "domain/segment_json.h"
#include "import/ndjson_reader.h"

namespace cmfd {

std::string_view ImportKindName(ImportKind kind) {
  switch (kind) {
    case ImportKind::kCustomers: return "customers";
    case ImportKind::kActivities: return "activities";
    case ImportKind::kAssignments: return "assignments";
  }
  return "records";
}

// The create paths of the API: parse the body into a patch, apply it to a
// new record, then the record-level checks.

Result<Customer> ParseCustomerLine(std::string_view line, const CustomerSchema& schema) {
  Result<CustomerPatch> patch = ParseCustomerPatch(line, schema);
  if (!patch.ok()) return patch.status();
  Customer customer = NewCustomer(schema);
  ApplyCustomerPatch(patch.value(), customer);
  Status required = CheckRequiredFields(customer, schema);
  if (!required.ok()) return required;
  return customer;
}

Result<Activity> ParseActivityLine(std::string_view line) {
  Result<ActivityPatch> patch = ParseActivityPatch(line, ActivityWrite::kCreate);
  if (!patch.ok()) return patch.status();
  Activity activity = NewActivity();
  ApplyActivityPatch(patch.value(), activity);
  return activity;
}

Result<SegmentAssignment> ParseAssignmentLine(std::string_view line) {
  Result<SegmentsOfCustomerRequest> request = ParseSegmentsOfCustomerRequest(line);
  if (!request.ok()) return request.status();
  SegmentAssignment assignment;
  assignment.customer_id = request->customer_id;
  assignment.add = std::move(request->add);
  assignment.remove = std::move(request->remove);
  return assignment;
}

namespace {

// The lines of one batch: the parsed records, the line number of each, and
// the lines that failed to parse, in line order.
struct Chunk {
  ImportBatch batch;
  std::vector<std::int64_t> record_lines;
  std::vector<std::pair<std::int64_t, Status>> bad_lines;

  std::size_t size() const { return record_lines.size() + bad_lines.size(); }
};

// Adds the record parsed from `line` to `chunk`, or its problem.
void AddLine(Chunk& chunk, ImportKind kind, const NdjsonLine& line, const CustomerSchema& schema,
             std::uint64_t max_line_bytes) {
  if (line.too_long) {
    chunk.bad_lines.emplace_back(
        line.number, Status::TooLarge("line is " + std::to_string(line.length) +
                                      " bytes long, more than the limit of " +
                                      std::to_string(max_line_bytes) + " bytes"));
    return;
  }

  Status problem;
  switch (kind) {
    case ImportKind::kCustomers: {
      Result<Customer> customer = ParseCustomerLine(line.text, schema);
      if (customer.ok()) {
        chunk.batch.customers.push_back(std::move(customer.value()));
      } else {
        problem = customer.status();
      }
      break;
    }
    case ImportKind::kActivities: {
      Result<Activity> activity = ParseActivityLine(line.text);
      if (activity.ok()) {
        chunk.batch.activities.push_back(std::move(activity.value()));
      } else {
        problem = activity.status();
      }
      break;
    }
    case ImportKind::kAssignments: {
      Result<SegmentAssignment> assignment = ParseAssignmentLine(line.text);
      if (assignment.ok()) {
        chunk.batch.assignments.push_back(std::move(assignment.value()));
      } else {
        problem = assignment.status();
      }
      break;
    }
  }

  if (problem.ok()) {
    chunk.record_lines.push_back(line.number);
  } else {
    chunk.bad_lines.emplace_back(line.number, std::move(problem));
  }
}

}  // namespace

NdjsonImporter::NdjsonImporter(Store& store, const CustomerSchema& schema, ImportOptions options,
                               BadLineHandler on_bad_line)
    : store_(store),
      schema_(schema),
      options_(options),
      on_bad_line_(std::move(on_bad_line)) {
  if (options_.batch_size == 0) options_.batch_size = 1;
}

Result<ImportFileReport> NdjsonImporter::ImportFile(const std::string& path, ImportKind kind) {
  const auto started = std::chrono::steady_clock::now();
  ImportFileReport report;
  report.path = path;
  report.kind = kind;

  Result<std::unique_ptr<NdjsonReader>> reader = NdjsonReader::Open(path, options_.max_line_bytes);
  if (!reader.ok()) return reader.status();

  // The chunk being parsed, and the one the store is writing on a worker
  // thread. The worker only touches `writing`, and only until its future is
  // collected, which happens before `writing` is reused.
  auto parsing = std::make_unique<Chunk>();
  auto writing = std::make_unique<Chunk>();
  std::future<Result<ImportCounts>> written;

  // Waits for the chunk in `writing`, counts it and reports its bad lines,
  // merging the parse failures and the store's rejections by line number.
  auto collect = [&]() -> Status {
    ImportCounts counts;
    if (written.valid()) {
      Result<ImportCounts> result = written.get();
      if (!result.ok()) return result.status();
      counts = std::move(result.value());
    }

    std::vector<std::pair<std::int64_t, Status>>& bad = writing->bad_lines;
    for (ImportRejection& rejection : counts.rejected) {
      bad.emplace_back(writing->record_lines.at(rejection.index), std::move(rejection.status));
    }
    std::stable_sort(bad.begin(), bad.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [line, status] : bad) on_bad_line_(path, line, status);

    report.created += counts.customers_created + counts.activities_created +
                      counts.assignments_applied;
    report.updated += counts.activities_updated;
    report.rejected += static_cast<std::int64_t>(bad.size());
    *writing = Chunk();
    return Status::Ok();
  };

  // Hands the parsed chunk to the worker once the previous one is written.
  auto hand_over = [&]() -> Status {
    Status status = collect();
    if (!status.ok()) return status;
    std::swap(parsing, writing);
    if (!writing->record_lines.empty()) {
      ImportBatch* batch = &writing->batch;
      written = std::async(std::launch::async, [this, batch] { return store_.Import(*batch); });
    }
    return Status::Ok();
  };

  // Writing overlaps parsing only from the second batch on, so a short first
  // batch shortens the time the writer waits at the start of each file.
  std::size_t next_batch_size = std::min(options_.batch_size, kFirstBatchSize);
  NdjsonLine line;
  while (true) {
    Result<bool> more = reader.value()->Next(line);
    if (!more.ok()) {
      Status ignored = collect();  // the worker must finish before its chunk goes away
      (void)ignored;
      return more.status();
    }
    if (!more.value()) break;

    ++report.lines;
    AddLine(*parsing, kind, line, schema_, options_.max_line_bytes);
    if (parsing->size() >= next_batch_size) {
      Status status = hand_over();
      if (!status.ok()) return status;
      next_batch_size = options_.batch_size;
    }
  }

  Status status = hand_over();
  if (status.ok()) status = collect();
  if (!status.ok()) return status;

  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

}  // namespace cmfd

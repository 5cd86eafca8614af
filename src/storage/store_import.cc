// The backend-neutral Store::Import: one single-record call per row. Backends
// override it with a one-transaction version; this one keeps `cmfd import`
// correct on a backend that has not done so yet.
#include "storage/store.h"

namespace cmfd {

namespace {

// A store rule broken by one row, as opposed to a database fault that stops
// the import.
bool IsRowRejection(const Status& status) {
  return status.code() == Code::kInvalid || status.code() == Code::kNotFound ||
         status.code() == Code::kConflict;
}

}  // namespace

Result<ImportCounts> Store::Import(ImportBatch& batch) {
  ImportCounts counts;
  using Kind = ImportRejection::Kind;

  for (std::size_t i = 0; i < batch.customers.size(); ++i) {
    Result<Customer> created = CreateCustomer(batch.customers[i]);
    if (!created.ok()) {
      if (!IsRowRejection(created.status())) return created.status();
      counts.rejected.push_back({Kind::kCustomer, i, created.status()});
      continue;
    }
    batch.customers[i] = std::move(created.value());
    ++counts.customers_created;
  }

  for (std::size_t i = 0; i < batch.activities.size(); ++i) {
    Result<std::pair<Activity, bool>> stored = CreateActivity(batch.activities[i]);
    if (!stored.ok()) {
      if (!IsRowRejection(stored.status())) return stored.status();
      counts.rejected.push_back({Kind::kActivity, i, stored.status()});
      continue;
    }
    if (stored->second) {
      ++counts.activities_created;
    } else {
      ++counts.activities_updated;
    }
    batch.activities[i] = std::move(stored->first);
  }

  for (std::size_t i = 0; i < batch.assignments.size(); ++i) {
    const SegmentAssignment& assignment = batch.assignments[i];
    Result<std::vector<std::int64_t>> changed =
        ChangeCustomerSegments(assignment.customer_id, assignment.add, assignment.remove);
    if (!changed.ok()) {
      if (!IsRowRejection(changed.status())) return changed.status();
      counts.rejected.push_back({Kind::kAssignment, i, changed.status()});
      continue;
    }
    ++counts.assignments_applied;
  }
  return counts;
}

}  // namespace cmfd

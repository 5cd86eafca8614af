// The customer list of the SQLite store: filters, the total, and pages that
// seek through the page cache instead of skipping rows with a large OFFSET.
#include <algorithm>
#include <utility>

#include "storage/json_text.h"
#include "storage/sqlite/sqlite_paging.h"
#include "storage/sqlite/sqlite_rows.h"
#include "storage/sqlite/sqlite_store_impl.h"

namespace cmfd {

namespace {

// The customers of the last page read on this thread. Reading the next page
// into them lets their strings and vectors keep their buffers, which saves
// several allocations per row. Larger pages than kMaxReusedRows are not kept.
struct ReusedPage {
  std::vector<Customer> rows;
  bool in_use = false;  // a row callback that lists customers gets its own
};
thread_local ReusedPage reused_page;
constexpr std::size_t kMaxReusedRows = 1000;

// Lends a thread's ReusedPage for one list call, or a fresh vector when it
// is already lent. Activities are dropped when the call ends, because they
// can be far larger than the customers.
class PageRows {
 public:
  PageRows() : rows_(reused_page.in_use ? &own_ : &reused_page.rows) {
    if (rows_ == &reused_page.rows) reused_page.in_use = true;
  }
  ~PageRows() {
    if (rows_ != &reused_page.rows) return;
    if (rows_->size() > kMaxReusedRows) {
      std::vector<Customer>().swap(*rows_);
    } else {
      for (Customer& customer : *rows_) customer.activities.reset();
    }
    reused_page.in_use = false;
  }
  PageRows(const PageRows&) = delete;
  PageRows& operator=(const PageRows&) = delete;

  // The next row to read into: a customer from an earlier page, or a new
  // one.
  Customer& Next() {
    if (count_ == rows_->size()) rows_->emplace_back();
    Customer& customer = (*rows_)[count_++];
    customer.activities.reset();
    return customer;
  }

  std::size_t size() const { return count_; }
  Customer& operator[](std::size_t i) { return (*rows_)[i]; }

 private:
  std::vector<Customer> own_;
  std::vector<Customer>* rows_;
  std::size_t count_ = 0;
};

}  // namespace

Status SqliteStore::PlanCustomerList(const CustomerQuery& query, CustomerListPlan& plan) const {
  SqlFilter& filter = plan.filter;
  if (!query.segments_all.empty()) {
    std::vector<std::int64_t> segments = query.segments_all;
    std::sort(segments.begin(), segments.end());
    segments.erase(std::unique(segments.begin(), segments.end()), segments.end());

    // The list walks the members of the first segment in customer id order
    // (the index on segment_id ends with customer_id), so a page reads its
    // own rows and not every member of the segment. CROSS JOIN keeps that
    // order of the tables. The list orders by s0.customer_id, which equals
    // c.id, because the planner sees that the index returns that order.
    plan.from = " FROM customer_segments s0 CROSS JOIN customers c ON c.id = s0.customer_id";
    plan.order = "s0.customer_id";
    plan.seek = "s0.customer_id > ?";
    filter.Add("s0.segment_id = ?", {segments.front()});
    plan.segment = segments.front();
    plan.only_one_segment = segments.size() == 1;
    if (segments.size() > 1) {
      // A customer has each segment at most once, so having N of the other
      // N distinct ids means having all of them. An unknown id matches
      // nothing.
      std::vector<std::int64_t> others(segments.begin() + 1, segments.end());
      filter.Add("(SELECT count(*) FROM customer_segments t WHERE t.customer_id = c.id"
                 " AND t.segment_id IN (SELECT value FROM json_each(?))) = ?",
                 {JsonIntArray(others), static_cast<std::int64_t>(others.size())});
    }
  }
  if (query.modified_after) {
    filter.Add("c.modification_date > ?", {*query.modified_after});
  }
  if (query.email) {
    filter.Add("lower(c.email) = lower(?)", {*query.email});
  }
  for (const auto& [index, value] : query.extra_equals) {
    const std::vector<CustomField>& fields = options_.customer.fields;
    if (index >= fields.size()) {
      return Status::Internal("customer filter names extra field index " +
                              std::to_string(index) + " of " + std::to_string(fields.size()));
    }
    if (!fields[index].unique) {
      return Status::Invalid(fields[index].name +
                             " is not a unique customer field and cannot be a list filter");
    }
    filter.Add("c.id IN (SELECT customer_id FROM customer_unique WHERE field = ? AND value = ?)",
               {fields[index].name, value});
  }

  // The other filters have selective indexes of their own, so only a date
  // range alone has a choice of index.
  const bool no_field_filters = !query.email && query.extra_equals.empty();
  plan.only_modified_after =
      query.modified_after && query.segments_all.empty() && no_field_filters;
  plan.only_one_segment = plan.only_one_segment && !query.modified_after && no_field_filters;
  return Status::Ok();
}

Result<ListInfo> SqliteStore::ListCustomers(const CustomerQuery& query,
                                            const std::function<void(const Customer&)>& row) {
  Result<std::optional<std::int64_t>> offset = PageOffset(query.page);
  if (!offset.ok()) return offset.status();
  CustomerListPlan plan;
  CMFD_SQLITE_TRY(PlanCustomerList(query, plan));
  const SqlFilter& filter = plan.filter;

  Result<Reader> reader = LeaseReader();
  if (!reader.ok()) return reader.status();
  SqliteDb& db = reader->db();

  ListInfo info;
  info.timestamp = clock_.ReadTimestamp();
  CMFD_SQLITE_TRY(reader->Begin());

  // The first statement takes the snapshot, so the counters, the total and
  // the rows all describe the same state.
  Result<TableCounters> counters = ReadTableCounters(db);
  if (!counters.ok()) return counters.status();
  const std::string shape = kAllCustomersShape + filter.Key();
  if (filter.empty()) {
    info.total_rows = counters->customers;
  } else if (plan.only_one_segment) {
    // The member count kept by triggers.
    SqlFilter segment;
    segment.Add("segment_id = ?", {plan.segment});
    Result<std::int64_t> total = QueryCount(
        db, "SELECT coalesce(sum(n), 0) FROM segment_member_counts" + segment.where(), segment);
    if (!total.ok()) return total.status();
    info.total_rows = total.value();
  } else {
    // Inserts raise the row count and every other change of the customers
    // a filter can match raises customers_changes.
    const CacheVersion count_version{counters->customers_changes, counters->customers};
    if (std::optional<std::int64_t> cached = page_cache_.FindCount(shape, count_version)) {
      info.total_rows = *cached;
    } else {
      Result<std::int64_t> total =
          QueryCount(db, "SELECT count(*)" + plan.from + filter.where(), filter);
      if (!total.ok()) return total.status();
      info.total_rows = total.value();
      page_cache_.AddCount(shape, count_version, info.total_rows);
    }
  }
  if (!offset.value() || *offset.value() >= info.total_rows) {
    CMFD_SQLITE_TRY(reader->Commit());
    return info;
  }

  // Inserts get ids above every other id, so they never move a checkpoint;
  // see sqlite_page_cache.h for the versions.
  const PagedShape paged{page_cache_, shape,
                         CacheVersion{filter.empty() ? counters->customers_deletes
                                                     : counters->customers_changes,
                                      0}};

  // A date range alone reads through the date's index when the range is
  // small (see PreferRangeIndex).
  auto source = [&](std::int64_t skip) -> std::string {
    if (plan.only_modified_after &&
        PreferRangeIndex(info.total_rows, counters->customers, skip, query.page.page_size)) {
      return " FROM customers c INDEXED BY customers_modification";
    }
    return plan.from;
  };
  auto seek = [&](const std::optional<PageKey>& after) {
    SqlFilter seeking = filter;
    if (after) seeking.Add(plan.seek, {(*after)[0]});
    return seeking;
  };
  const std::string order_by = std::string(" ORDER BY ") + plan.order;

  const std::int64_t offset_rows = *offset.value();
  Result<PageStart> start = LocatePage(
      paged, offset_rows, CheckpointStride(info.total_rows), /*key_columns=*/1,
      [&](const std::optional<PageKey>& after, std::int64_t limit) -> Result<SqliteStatement> {
        // Without filters, the planner reads the ids from the narrow
        // customers_ids index rather than from the rows.
        SqlFilter seeking = seek(after);
        Result<SqliteStatement> stmt =
            db.Prepare("SELECT c.id" + source(limit) + seeking.where() + order_by + " LIMIT ?");
        if (!stmt.ok()) return stmt.status();
        seeking.Bind(stmt.value());
        stmt->BindInt(seeking.param_count() + 1, limit);
        return stmt;
      });
  if (!start.ok()) return start.status();

  SqlFilter seeking = seek(start->after);
  std::string sql = std::string("SELECT ") + kCustomerFieldColumns + source(start->skip) +
                    seeking.where() + order_by + " LIMIT ? OFFSET ?";
  Result<SqliteStatement> stmt = db.Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  seeking.Bind(stmt.value());
  stmt->BindInt(seeking.param_count() + 1, query.page.page_size);
  stmt->BindInt(seeking.param_count() + 2, start->skip);

  // The page is collected first, to fetch the segments (and activities) of
  // all its customers with one query each. Memory is bounded by the page
  // size, which the handlers cap.
  PageRows page;
  while (true) {
    Result<bool> has_row = stmt->Step();
    if (!has_row.ok()) return has_row.status();
    if (!has_row.value()) break;
    CMFD_SQLITE_TRY(ReadCustomerFields(stmt.value(), options_.customer.fields, page.Next()));
  }
  stmt = SqliteStatement();
  if (page.size() > 0) {
    RecordPageEnd(paged, offset_rows, static_cast<std::int64_t>(page.size()),
                  PageKey{page[page.size() - 1].id, 0});
  }

  std::vector<Customer*> pointers;
  pointers.reserve(page.size());
  for (std::size_t i = 0; i < page.size(); ++i) pointers.push_back(&page[i]);
  CMFD_SQLITE_TRY(LoadSegmentsOf(db, pointers));
  if (query.include_activities) CMFD_SQLITE_TRY(LoadActivitiesOf(db, pointers));
  for (const Customer* loaded : pointers) row(*loaded);

  CMFD_SQLITE_TRY(reader->Commit());
  return info;
}

}  // namespace cmfd

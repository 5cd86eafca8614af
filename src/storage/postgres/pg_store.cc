// Opening the PostgreSQL store, and the helpers its resource files share.
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <limits>
#include <utility>

#include "storage/postgres/pg_schema.h"
#include "storage/postgres/pg_store_impl.h"
#include "storage/postgres/postgres_store.h"

namespace cmfd {

Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url,
                                                 const StoreOptions& options) {
  auto store = std::make_unique<pg::PgStore>(url, options);
  Status status = store->Initialize();
  if (!status.ok()) return status;
  return std::unique_ptr<Store>(std::move(store));
}

namespace pg {

Result<std::optional<std::int64_t>> PageOffset(const PageRequest& page) {
  if (page.page < 1) {
    return Status::Invalid("page must be at least 1, got " + std::to_string(page.page));
  }
  if (page.page_size < 1) {
    return Status::Invalid("pageSize must be at least 1, got " + std::to_string(page.page_size));
  }
  if (page.page - 1 > std::numeric_limits<std::int64_t>::max() / page.page_size) {
    return std::optional<std::int64_t>();
  }
  return std::optional<std::int64_t>((page.page - 1) * page.page_size);
}

Status NotFoundStatus(const char* entity, std::int64_t id) {
  return Status::NotFound(std::string(entity) + " with ID " + std::to_string(id) +
                          " was not found");
}

PgStore::PgStore(std::string conninfo, StoreOptions options)
    : options_(std::move(options)),
      pool_(std::move(conninfo), options_.pool_size),
      runner_(pool_) {}

PgStore::~PgStore() = default;

Status PgStore::Initialize() {
  if (sodium_init() < 0) return Status::Internal("libsodium failed to initialize");
  Status status = ResolveCustomerSchema();
  if (!status.ok()) return status;

  // The first connection of the pool migrates the schema; a failure to
  // connect at start-up is reported at once rather than on the first request.
  Result<PgLease> lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  status = MigratePostgresSchema(*lease.value());
  if (!status.ok()) return status;

  spdlog::debug("PostgreSQL store ready: schema version {}, pool of {} connections",
               kPostgresSchemaVersion, pool_.size());
  return Status::Ok();
}

Status PgStore::Ping() {
  Result<std::vector<PgResult>> read = runner_.ReadWithoutTimestamp("ping", {{"SELECT 1", {}}});
  return read.status();
}

}  // namespace pg
}  // namespace cmfd

// The PostgreSQL backend of Store, for several cmfd processes sharing one
// database.
#pragma once

#include <memory>
#include <string>

#include "storage/store.h"

namespace cmfd {

// Connects to the database named by `url` (a postgresql:// URL or a libpq
// keyword string such as "host=/run/postgresql dbname=cmfd") and brings its
// schema up to date. Unavailable when the server cannot be reached; Internal
// when the database's schema is newer than this binary or the customer
// schema in `options` names an unknown duplicate-check field.
Result<std::unique_ptr<Store>> OpenPostgresStore(const std::string& url,
                                                 const StoreOptions& options);

}  // namespace cmfd

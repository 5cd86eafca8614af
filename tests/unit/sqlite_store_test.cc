// The rules of every Store method, run against the SQLite backend on real
// database files.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "sqlite_test_support.h"
#include "storage/sqlite/sqlite_schema.h"

namespace cmfd {
namespace {

Customer MakeCustomer(std::optional<std::string> email = std::nullopt) {
  Customer customer;
  customer.firstname = "Ada";
  customer.lastname = "Lovelace";
  customer.email = std::move(email);
  return customer;
}

Activity MakeActivity(std::int64_t customer_id, std::string type, std::int64_t date) {
  Activity activity;
  activity.customer_id = customer_id;
  activity.type = std::move(type);
  activity.activity_date = date;
  activity.implementation_class = "GenericActivity";
  activity.md5 = "d41d8cd98f00b204e9800998ecf8427e";
  activity.attributes_json = R"({"sku":"A-1","price":1.0})";
  return activity;
}

std::vector<Customer> ListCustomers(Store& store, const CustomerQuery& query,
                                    ListInfo* info = nullptr) {
  std::vector<Customer> rows;
  Result<ListInfo> result =
      store.ListCustomers(query, [&](const Customer& c) { rows.push_back(c); });
  EXPECT_TRUE(result.ok()) << result.status().message();
  if (info != nullptr) *info = result.value();
  return rows;
}

std::vector<std::int64_t> Ids(const std::vector<Customer>& customers) {
  std::vector<std::int64_t> ids;
  for (const Customer& c : customers) ids.push_back(c.id);
  return ids;
}

std::vector<Activity> ListActivities(Store& store, const ActivityQuery& query,
                                     ListInfo* info = nullptr) {
  std::vector<Activity> rows;
  Result<ListInfo> result =
      store.ListActivities(query, [&](const Activity& a) { rows.push_back(a); });
  EXPECT_TRUE(result.ok()) << result.status().message();
  if (info != nullptr) *info = result.value();
  return rows;
}

std::vector<Deletion> ListDeletions(Store& store, const DeletionQuery& query,
                                    const PageRequest& page = {}, ListInfo* info = nullptr) {
  std::vector<Deletion> rows;
  Result<ListInfo> result =
      store.ListDeletions(query, page, [&](const Deletion& d) { rows.push_back(d); });
  EXPECT_TRUE(result.ok()) << result.status().message();
  if (info != nullptr) *info = result.value();
  return rows;
}

SegmentGroupPatch GroupPatch(std::string name, std::optional<std::string> reference = std::nullopt,
                             bool calculated = false) {
  SegmentGroupPatch patch;
  patch.name = std::move(name);
  if (reference) patch.reference = reference;
  patch.calculated = calculated;
  return patch;
}

SegmentPatch SegmentPatchFor(std::int64_t group, std::string name,
                             std::optional<std::string> reference = std::nullopt) {
  SegmentPatch patch;
  patch.group = group;
  patch.name = std::move(name);
  if (reference) patch.reference = reference;
  return patch;
}

using SqliteStoreTest = SqliteStoreFixture;

// ---- opening and migrations ----

TEST_F(SqliteStoreTest, PingSucceeds) { EXPECT_TRUE(store().Ping().ok()); }

TEST_F(SqliteStoreTest, ReopenKeepsData) {
  Result<Customer> created = store().CreateCustomer(MakeCustomer("a@example.com"));
  ASSERT_TRUE(created.ok());
  Open();
  Result<Customer> loaded = store().GetCustomer(created->id, false);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->email, "a@example.com");
}

TEST_F(SqliteStoreTest, MigrationIsRecorded) {
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT max(version), count(*) FROM schema_migrations", -1,
                               &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), kSqliteSchemaVersion);
  EXPECT_EQ(sqlite3_column_int(stmt, 1), kSqliteSchemaVersion);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, NewerSchemaIsRejected) {
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);

  Result<std::unique_ptr<Store>> opened = OpenSqliteStore(path(), StoreOptions{});
  ASSERT_FALSE(opened.ok());
  const std::string& message = opened.status().message();
  EXPECT_NE(message.find("99"), std::string::npos) << message;
  EXPECT_NE(message.find("(" + std::to_string(kSqliteSchemaVersion) + ")"), std::string::npos)
      << message;
}

TEST_F(SqliteStoreTest, MemoryDatabaseIsRejected) {
  Result<std::unique_ptr<Store>> opened = OpenSqliteStore(":memory:", StoreOptions{});
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Code::kInvalid);
}

TEST_F(SqliteStoreTest, NotADatabaseIsAnError) {
  std::string bogus = dir_.File("bogus.db");
  FILE* file = fopen(bogus.c_str(), "w");
  ASSERT_NE(file, nullptr);
  fputs("this is not an SQLite database, just text that is long enough to have a header", file);
  fclose(file);
  Result<std::unique_ptr<Store>> opened = OpenSqliteStore(bogus, StoreOptions{});
  EXPECT_FALSE(opened.ok());
}

TEST_F(SqliteStoreTest, UnknownDuplicateFieldIsRejected) {
  StoreOptions options;
  options.customer.duplicate_check = {"shoeSize"};
  Result<std::unique_ptr<Store>> opened = OpenSqliteStore(dir_.File("other.db"), options);
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().message().find("shoeSize"), std::string::npos);
}

// ---- customers ----

TEST_F(SqliteStoreTest, CreateCustomerSetsIdDatesAndToken) {
  Customer input = MakeCustomer("ada@example.com");
  input.id = 999;  // ignored
  input.segments = {4};  // read-only, ignored
  Result<Customer> created = store().CreateCustomer(input);
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_EQ(created->id, 1);
  EXPECT_EQ(created->creation_date, kStart);
  EXPECT_EQ(created->modification_date, kStart);
  EXPECT_EQ(created->id_encoded.size(), 32u);
  EXPECT_TRUE(created->segments.empty());

  Result<Customer> loaded = store().GetCustomer(created->id, false);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->id_encoded, created->id_encoded);
  EXPECT_EQ(loaded->firstname, "Ada");
  EXPECT_EQ(loaded->email, "ada@example.com");
  EXPECT_TRUE(loaded->active);
  EXPECT_FALSE(loaded->activities.has_value());
}

TEST_F(SqliteStoreTest, IdEncodedKeptOrRandom) {
  Customer given = MakeCustomer();
  given.id_encoded = "my-token";
  Result<Customer> first = store().CreateCustomer(given);
  Result<Customer> second = store().CreateCustomer(MakeCustomer());
  Result<Customer> third = store().CreateCustomer(MakeCustomer());
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(first->id_encoded, "my-token");
  EXPECT_NE(second->id_encoded, third->id_encoded);
}

TEST_F(SqliteStoreTest, AllCustomerFieldsRoundTrip) {
  Customer input;
  input.active = false;
  input.gender = "female";
  input.firstname = "";
  input.lastname = "Müller \"quoted\"";
  input.birthdate = "1990-02-28";
  input.street = "Main St 1";
  input.zip = "12345";
  input.city = "Berlin";
  input.phone = "+49 30 1";
  input.country_code = "DE";
  input.email = "X@Example.com";
  input.profiling_consent = true;
  input.password_hash = "$argon2id$v=19$...";
  Result<Customer> created = store().CreateCustomer(input);
  ASSERT_TRUE(created.ok());
  Result<Customer> loaded = store().GetCustomer(created->id, false);
  ASSERT_TRUE(loaded.ok());
  EXPECT_FALSE(loaded->active);
  EXPECT_EQ(loaded->gender, "female");
  EXPECT_EQ(loaded->firstname, "");
  EXPECT_EQ(loaded->lastname, "Müller \"quoted\"");
  EXPECT_EQ(loaded->birthdate, "1990-02-28");
  EXPECT_EQ(loaded->street, "Main St 1");
  EXPECT_EQ(loaded->zip, "12345");
  EXPECT_EQ(loaded->city, "Berlin");
  EXPECT_EQ(loaded->phone, "+49 30 1");
  EXPECT_EQ(loaded->country_code, "DE");
  EXPECT_EQ(loaded->email, "X@Example.com");
  EXPECT_TRUE(loaded->profiling_consent);
  EXPECT_EQ(loaded->password_hash, "$argon2id$v=19$...");
}

TEST_F(SqliteStoreTest, IdsAreNeverReusedAfterDelete) {
  Result<Customer> first = store().CreateCustomer(MakeCustomer());
  Result<Customer> second = store().CreateCustomer(MakeCustomer());
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(store().DeleteCustomer(second->id).ok());
  Open();  // the counter survives a restart as well
  Result<Customer> third = store().CreateCustomer(MakeCustomer());
  ASSERT_TRUE(third.ok());
  EXPECT_GT(third->id, second->id);

  Result<std::pair<Activity, bool>> activity =
      store().CreateActivity(MakeActivity(first->id, "visit", 1));
  ASSERT_TRUE(activity.ok());
  ASSERT_TRUE(store().DeleteActivity(activity->first.id).ok());
  Result<std::pair<Activity, bool>> next =
      store().CreateActivity(MakeActivity(first->id, "visit", 1));
  ASSERT_TRUE(next.ok());
  EXPECT_GT(next->first.id, activity->first.id);
}

TEST_F(SqliteStoreTest, GetUnknownCustomerIsNotFound) {
  Result<Customer> loaded = store().GetCustomer(42, false);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), Code::kNotFound);
  EXPECT_EQ(loaded.status().message(), "Customer with ID 42 was not found");
}

TEST_F(SqliteStoreTest, UpdateCustomerAppliesModifyAndSetsModificationDate) {
  Result<Customer> created = store().CreateCustomer(MakeCustomer("a@example.com"));
  ASSERT_TRUE(created.ok());
  clock_.Advance(10);
  Result<Customer> updated = store().UpdateCustomer(created->id, [](Customer& c) {
    c.city = "Paris";
    c.id = 77;               // ignored
    c.creation_date = 5;     // ignored
    c.id_encoded.clear();    // keeps the stored token
    return Status::Ok();
  });
  ASSERT_TRUE(updated.ok()) << updated.status().message();
  EXPECT_EQ(updated->id, created->id);
  EXPECT_EQ(updated->city, "Paris");
  EXPECT_EQ(updated->creation_date, kStart);
  EXPECT_EQ(updated->modification_date, kStart + 10);
  EXPECT_EQ(updated->id_encoded, created->id_encoded);

  Result<Customer> loaded = store().GetCustomer(created->id, false);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->city, "Paris");
  EXPECT_EQ(loaded->modification_date, kStart + 10);
}

TEST_F(SqliteStoreTest, UpdateCustomerModifyErrorChangesNothing) {
  Result<Customer> created = store().CreateCustomer(MakeCustomer("a@example.com"));
  ASSERT_TRUE(created.ok());
  clock_.Advance(10);
  Result<Customer> updated = store().UpdateCustomer(created->id, [](Customer& c) {
    c.city = "Paris";
    return Status::Invalid("birthdate: invalid value");
  });
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.status().message(), "birthdate: invalid value");
  Result<Customer> loaded = store().GetCustomer(created->id, false);
  ASSERT_TRUE(loaded.ok());
  EXPECT_FALSE(loaded->city.has_value());
  EXPECT_EQ(loaded->modification_date, kStart);
}

TEST_F(SqliteStoreTest, UpdateUnknownCustomerIsNotFound) {
  bool called = false;
  Result<Customer> updated = store().UpdateCustomer(5, [&](Customer&) {
    called = true;
    return Status::Ok();
  });
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.status().code(), Code::kNotFound);
  EXPECT_EQ(updated.status().message(), "Customer with ID 5 was not found");
  EXPECT_FALSE(called);
}

TEST_F(SqliteStoreTest, DeleteUnknownCustomerIsNotFound) {
  Status status = store().DeleteCustomer(3);
  EXPECT_EQ(status.code(), Code::kNotFound);
  EXPECT_EQ(status.message(), "Customer with ID 3 was not found");
}

TEST_F(SqliteStoreTest, DeleteCustomerRecordsItAndItsActivities) {
  Result<Customer> customer = store().CreateCustomer(MakeCustomer());
  Result<Customer> other = store().CreateCustomer(MakeCustomer());
  ASSERT_TRUE(customer.ok());
  ASSERT_TRUE(other.ok());
  Result<std::pair<Activity, bool>> a1 = store().CreateActivity(MakeActivity(customer->id, "visit", 5));
  Result<std::pair<Activity, bool>> a2 = store().CreateActivity(MakeActivity(customer->id, "order", 3));
  Result<std::pair<Activity, bool>> kept = store().CreateActivity(MakeActivity(other->id, "visit", 1));
  ASSERT_TRUE(a1.ok());
  ASSERT_TRUE(a2.ok());
  ASSERT_TRUE(kept.ok());
  Result<SegmentGroup> group = store().CreateSegmentGroup(GroupPatch("g"));
  Result<Segment> segment = store().CreateSegment(SegmentPatchFor(group->id, "s"));
  ASSERT_TRUE(store().ChangeCustomerSegments(customer->id, {segment->id}, {}).ok());

  clock_.Advance(100);
  ASSERT_TRUE(store().DeleteCustomer(customer->id).ok());

  EXPECT_EQ(store().GetCustomer(customer->id, false).status().code(), Code::kNotFound);
  EXPECT_EQ(store().GetActivity(a1->first.id).status().code(), Code::kNotFound);
  EXPECT_EQ(store().GetActivity(a2->first.id).status().code(), Code::kNotFound);
  EXPECT_TRUE(store().GetActivity(kept->first.id).ok());

  std::vector<Deletion> customers = ListDeletions(store(), {"customers", std::nullopt});
  ASSERT_EQ(customers.size(), 1u);
  EXPECT_EQ(customers[0].id, customer->id);
  EXPECT_EQ(customers[0].entity_type, "customers");
  EXPECT_EQ(customers[0].type, "");
  EXPECT_EQ(customers[0].creation_date, kStart + 100);

  std::vector<Deletion> activities = ListDeletions(store(), {"activities", std::nullopt});
  ASSERT_EQ(activities.size(), 2u);
  EXPECT_EQ(activities[0].id, a1->first.id);
  EXPECT_EQ(activities[0].type, "visit");
  EXPECT_EQ(activities[1].id, a2->first.id);
  EXPECT_EQ(activities[1].type, "order");
  EXPECT_EQ(activities[1].creation_date, kStart + 100);

  // The segment lost its assignment: deleting it touches no customer.
  ListInfo info;
  ListCustomers(store(), {}, &info);
  EXPECT_EQ(info.total_rows, 1);
}

TEST_F(SqliteStoreTest, GetCustomerWithSegmentsAndActivities) {
  Result<Customer> customer = store().CreateCustomer(MakeCustomer());
  ASSERT_TRUE(customer.ok());
  Result<SegmentGroup> group = store().CreateSegmentGroup(GroupPatch("g"));
  std::vector<std::int64_t> segments;
  for (int i = 0; i < 3; ++i) {
    Result<Segment> segment = store().CreateSegment(SegmentPatchFor(group->id, "s"));
    ASSERT_TRUE(segment.ok());
    segments.push_back(segment->id);
  }
  ASSERT_TRUE(store().ChangeCustomerSegments(customer->id, {segments[2], segments[0]}, {}).ok());
  Result<std::pair<Activity, bool>> late = store().CreateActivity(MakeActivity(customer->id, "a", 50));
  Result<std::pair<Activity, bool>> early = store().CreateActivity(MakeActivity(customer->id, "b", 10));
  Result<std::pair<Activity, bool>> tie = store().CreateActivity(MakeActivity(customer->id, "c", 50));
  ASSERT_TRUE(late.ok());
  ASSERT_TRUE(early.ok());
  ASSERT_TRUE(tie.ok());

  Result<Customer> loaded = store().GetCustomer(customer->id, true);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->segments, (std::vector<std::int64_t>{segments[0], segments[2]}));
  ASSERT_TRUE(loaded->activities.has_value());
  ASSERT_EQ(loaded->activities->size(), 3u);
  EXPECT_EQ((*loaded->activities)[0].id, early->first.id);
  EXPECT_EQ((*loaded->activities)[1].id, late->first.id);
  EXPECT_EQ((*loaded->activities)[2].id, tie->first.id);
  EXPECT_EQ((*loaded->activities)[0].attributes_json, R"({"sku":"A-1","price":1.0})");

  Result<Customer> without = store().GetCustomer(customer->id, false);
  ASSERT_TRUE(without.ok());
  EXPECT_FALSE(without->activities.has_value());
}

// ---- extra fields, uniqueness and duplicates ----

StoreOptions ExtraFieldOptions() {
  StoreOptions options;
  CustomField number;
  number.name = "customerNumber";
  number.unique = true;
  CustomField tier;
  tier.name = "loyaltyTier";
  tier.type = FieldType::kSelect;
  options.customer.fields = {number, tier};
  return options;
}

TEST_F(SqliteStoreTest, ExtraFieldsRoundTrip) {
  Open(ExtraFieldOptions());
  Customer input = MakeCustomer();
  input.extra = {"\"12346\"", std::nullopt};
  Result<Customer> created = store().CreateCustomer(input);
  ASSERT_TRUE(created.ok()) << created.status().message();
  Result<Customer> loaded = store().GetCustomer(created->id, false);
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->extra.size(), 2u);
  EXPECT_EQ(loaded->extra[0], "\"12346\"");
  EXPECT_EQ(loaded->extra[1], std::nullopt);
}

TEST_F(SqliteStoreTest, AddingAFieldKeepsOldRowsValid) {
  Result<Customer> old = store().CreateCustomer(MakeCustomer());
  ASSERT_TRUE(old.ok());
  Open(ExtraFieldOptions());
  Result<Customer> loaded = store().GetCustomer(old->id, false);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->extra, (std::vector<std::optional<std::string>>{std::nullopt, std::nullopt}));
}

TEST_F(SqliteStoreTest, UniqueFieldConflictNamesOtherCustomer) {
  Open(ExtraFieldOptions());
  Customer first = MakeCustomer();
  first.extra = {"\"12346\"", "\"gold\""};
  Result<Customer> stored = store().CreateCustomer(first);
  ASSERT_TRUE(stored.ok());

  // The select field is not unique; only customerNumber clashes.
  Result<Customer> clash = store().CreateCustomer(first);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().code(), Code::kConflict);
  EXPECT_EQ(clash.status().message(),
            "customerNumber \"12346\" is already used by customer " + std::to_string(stored->id));

  Customer second = MakeCustomer();
  second.extra = {"\"12347\"", "\"gold\""};
  Result<Customer> other = store().CreateCustomer(second);
  ASSERT_TRUE(other.ok()) << other.status().message();

  // An update to the other customer's value clashes; keeping one's own does not.
  Result<Customer> update = store().UpdateCustomer(other->id, [](Customer& c) {
    c.extra[0] = "\"12346\"";
    return Status::Ok();
  });
  ASSERT_FALSE(update.ok());
  EXPECT_EQ(update.status().code(), Code::kConflict);
  Result<Customer> same = store().UpdateCustomer(stored->id, [](Customer& c) {
    c.city = "Rome";
    return Status::Ok();
  });
  EXPECT_TRUE(same.ok()) << same.status().message();
}

TEST_F(SqliteStoreTest, UniqueValueIsFreedByChangeAndDelete) {
  Open(ExtraFieldOptions());
  Customer input = MakeCustomer();
  input.extra = {"\"A\"", std::nullopt};
  Result<Customer> first = store().CreateCustomer(input);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(store().UpdateCustomer(first->id, [](Customer& c) {
    c.extra[0] = "\"B\"";
    return Status::Ok();
  }).ok());
  Result<Customer> takes_a = store().CreateCustomer(input);
  ASSERT_TRUE(takes_a.ok()) << takes_a.status().message();

  ASSERT_TRUE(store().DeleteCustomer(first->id).ok());
  input.extra[0] = "\"B\"";
  Result<Customer> takes_b = store().CreateCustomer(input);
  EXPECT_TRUE(takes_b.ok()) << takes_b.status().message();
}

TEST_F(SqliteStoreTest, DuplicateCheckIsCaseInsensitive) {
  StoreOptions options;
  options.customer.duplicate_check = {"email"};
  Open(options);
  Result<Customer> first = store().CreateCustomer(MakeCustomer("Ada@Example.com"));
  ASSERT_TRUE(first.ok());

  Result<Customer> second = store().CreateCustomer(MakeCustomer("ada@example.COM"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Code::kConflict);
  EXPECT_EQ(second.status().message(), "Duplicate customer found: customer " +
                                           std::to_string(first->id) + " has the same email");

  // Without an email the check does not apply, and a customer never
  // duplicates itself.
  EXPECT_TRUE(store().CreateCustomer(MakeCustomer()).ok());
  EXPECT_TRUE(store().CreateCustomer(MakeCustomer()).ok());
  Result<Customer> self = store().UpdateCustomer(first->id, [](Customer& c) {
    c.email = "ADA@example.com";
    return Status::Ok();
  });
  EXPECT_TRUE(self.ok()) << self.status().message();
}

TEST_F(SqliteStoreTest, DuplicateCheckNeedsAllFieldsEqual) {
  StoreOptions options = ExtraFieldOptions();
  options.customer.duplicate_check = {"firstname", "lastname", "loyaltyTier"};
  Open(options);
  Customer input = MakeCustomer();
  input.extra = {std::nullopt, "\"Gold\""};
  Result<Customer> first = store().CreateCustomer(input);
  ASSERT_TRUE(first.ok());

  Customer other_tier = input;
  other_tier.extra[1] = "\"silver\"";
  EXPECT_TRUE(store().CreateCustomer(other_tier).ok());

  Customer same = input;
  same.firstname = "ADA";
  same.extra[1] = "\"gold\"";
  Result<Customer> clash = store().CreateCustomer(same);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().message(),
            "Duplicate customer found: customer " + std::to_string(first->id) +
                " has the same firstname, lastname and loyaltyTier");
}

// ---- listing customers ----

TEST_F(SqliteStoreTest, ListCustomersPagesByIdWithTotals) {
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(store().CreateCustomer(MakeCustomer()).ok());
  CustomerQuery query;
  query.page = {2, 3};
  ListInfo info;
  std::vector<Customer> rows = ListCustomers(store(), query, &info);
  EXPECT_EQ(Ids(rows), (std::vector<std::int64_t>{4, 5, 6}));
  EXPECT_EQ(info.total_rows, 7);

  query.page = {3, 3};
  EXPECT_EQ(Ids(ListCustomers(store(), query)), (std::vector<std::int64_t>{7}));

  query.page = {4, 3};
  rows = ListCustomers(store(), query, &info);
  EXPECT_TRUE(rows.empty());
  EXPECT_EQ(info.total_rows, 7);

  // A page number whose offset does not fit 64 bits is simply past the end.
  query.page = {std::numeric_limits<std::int64_t>::max(), 1000};
  rows = ListCustomers(store(), query, &info);
  EXPECT_TRUE(rows.empty());
  EXPECT_EQ(info.total_rows, 7);
}

TEST_F(SqliteStoreTest, ListCustomersRejectsBadPage) {
  CustomerQuery query;
  query.page = {0, 10};
  Result<ListInfo> result = store().ListCustomers(query, [](const Customer&) {});
  EXPECT_EQ(result.status().code(), Code::kInvalid);
}

TEST_F(SqliteStoreTest, ListCustomersModifiedAfterIsStrict) {
  Result<Customer> old = store().CreateCustomer(MakeCustomer());
  clock_.Advance(10);
  Result<Customer> recent = store().CreateCustomer(MakeCustomer());
  ASSERT_TRUE(old.ok());
  ASSERT_TRUE(recent.ok());
  CustomerQuery query;
  query.modified_after = kStart;
  ListInfo info;
  EXPECT_EQ(Ids(ListCustomers(store(), query, &info)), (std::vector<std::int64_t>{recent->id}));
  EXPECT_EQ(info.total_rows, 1);
  query.modified_after = kStart - 1;
  EXPECT_EQ(ListCustomers(store(), query).size(), 2u);
}

TEST_F(SqliteStoreTest, ListCustomersModifiedAfterEitherPlan) {
  // Few matches are read through the date index, many by walking the ids;
  // both must give the same pages.
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 12; ++i) {
    Result<Customer> created = store().CreateCustomer(MakeCustomer());
    ASSERT_TRUE(created.ok());
    ids.push_back(created->id);
  }
  clock_.Advance(10);
  for (std::int64_t id : {ids[7], ids[2], ids[9]}) {
    ASSERT_TRUE(store().UpdateCustomer(id, [](Customer&) { return Status::Ok(); }).ok());
  }

  CustomerQuery recent;
  recent.modified_after = kStart;
  recent.page = {1, 2};
  ListInfo info;
  EXPECT_EQ(Ids(ListCustomers(store(), recent, &info)),
            (std::vector<std::int64_t>{ids[2], ids[7]}));
  EXPECT_EQ(info.total_rows, 3);
  recent.page = {2, 2};
  EXPECT_EQ(Ids(ListCustomers(store(), recent)), (std::vector<std::int64_t>{ids[9]}));

  CustomerQuery all;
  all.modified_after = kStart - 1;
  all.page = {3, 1};
  EXPECT_EQ(Ids(ListCustomers(store(), all, &info)), (std::vector<std::int64_t>{ids[2]}));
  EXPECT_EQ(info.total_rows, 12);
}

TEST_F(SqliteStoreTest, ListCustomersBySegmentsNeedsAll) {
  Result<SegmentGroup> group = store().CreateSegmentGroup(GroupPatch("g"));
  Result<Segment> s1 = store().CreateSegment(SegmentPatchFor(group->id, "one"));
  Result<Segment> s2 = store().CreateSegment(SegmentPatchFor(group->id, "two"));
  ASSERT_TRUE(s1.ok());
  ASSERT_TRUE(s2.ok());
  Result<Customer> both = store().CreateCustomer(MakeCustomer());
  Result<Customer> only_one = store().CreateCustomer(MakeCustomer());
  Result<Customer> none = store().CreateCustomer(MakeCustomer());
  ASSERT_TRUE(both.ok());
  ASSERT_TRUE(only_one.ok());
  ASSERT_TRUE(none.ok());
  ASSERT_TRUE(store().ChangeCustomerSegments(both->id, {s1->id, s2->id}, {}).ok());
  ASSERT_TRUE(store().ChangeCustomerSegments(only_one->id, {s1->id}, {}).ok());

  CustomerQuery query;
  query.segments_all = {s2->id, s1->id, s1->id};
  ListInfo info;
  std::vector<Customer> rows = ListCustomers(store(), query, &info);
  EXPECT_EQ(Ids(rows), (std::vector<std::int64_t>{both->id}));
  EXPECT_EQ(info.total_rows, 1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].segments, (std::vector<std::int64_t>{s1->id, s2->id}));

  query.segments_all = {s1->id};
  EXPECT_EQ(Ids(ListCustomers(store(), query)),
            (std::vector<std::int64_t>{both->id, only_one->id}));

  query.segments_all = {s1->id, 9999};
  EXPECT_TRUE(ListCustomers(store(), query, &info).empty());
  EXPECT_EQ(info.total_rows, 0);
}

TEST_F(SqliteStoreTest, ListCustomersByEmailIgnoresCase) {
  Result<Customer> match = store().CreateCustomer(MakeCustomer("Ada@Example.com"));
  ASSERT_TRUE(store().CreateCustomer(MakeCustomer("bob@example.com")).ok());
  ASSERT_TRUE(store().CreateCustomer(MakeCustomer()).ok());
  CustomerQuery query;
  query.email = "ada@EXAMPLE.com";
  EXPECT_EQ(Ids(ListCustomers(store(), query)), (std::vector<std::int64_t>{match->id}));
}

TEST_F(SqliteStoreTest, ListCustomersByUniqueField) {
  Open(ExtraFieldOptions());
  Customer input = MakeCustomer();
  input.extra = {"\"12346\"", std::nullopt};
  Result<Customer> match = store().CreateCustomer(input);
  input.extra = {"\"12347\"", std::nullopt};
  ASSERT_TRUE(store().CreateCustomer(input).ok());
  ASSERT_TRUE(match.ok());

  CustomerQuery query;
  query.extra_equals = {{0, "\"12346\""}};
  ListInfo info;
  EXPECT_EQ(Ids(ListCustomers(store(), query, &info)), (std::vector<std::int64_t>{match->id}));
  EXPECT_EQ(info.total_rows, 1);
  query.extra_equals = {{0, "\"99999\""}};
  EXPECT_TRUE(ListCustomers(store(), query).empty());

  // Combined with another filter, both must hold.
  query.extra_equals = {{0, "\"12346\""}};
  query.modified_after = kStart;
  EXPECT_TRUE(ListCustomers(store(), query).empty());
}

TEST_F(SqliteStoreTest, ListCustomersWithActivities) {
  Result<Customer> first = store().CreateCustomer(MakeCustomer());
  Result<Customer> second = store().CreateCustomer(MakeCustomer());
  Result<Customer> third = store().CreateCustomer(MakeCustomer());
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(third.ok());
  ASSERT_TRUE(store().CreateActivity(MakeActivity(first->id, "x", 20)).ok());
  ASSERT_TRUE(store().CreateActivity(MakeActivity(first->id, "y", 10)).ok());
  ASSERT_TRUE(store().CreateActivity(MakeActivity(third->id, "z", 5)).ok());

  CustomerQuery query;
  query.include_activities = true;
  std::vector<Customer> rows = ListCustomers(store(), query);
  ASSERT_EQ(rows.size(), 3u);
  ASSERT_TRUE(rows[0].activities);
  ASSERT_TRUE(rows[1].activities);
  ASSERT_TRUE(rows[2].activities);
  ASSERT_EQ(rows[0].activities->size(), 2u);
  EXPECT_EQ((*rows[0].activities)[0].type, "y");
  EXPECT_EQ((*rows[0].activities)[1].type, "x");
  EXPECT_TRUE(rows[1].activities->empty());
  ASSERT_EQ(rows[2].activities->size(), 1u);
  EXPECT_EQ((*rows[2].activities)[0].type, "z");

  query.include_activities = false;
  rows = ListCustomers(store(), query);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_FALSE(rows[0].activities.has_value());
}

// ---- segments of customers ----

class SegmentsOfCustomersTest : public SqliteStoreFixture {
 protected:
  void SetUp() override {
    SqliteStoreFixture::SetUp();
    Result<SegmentGroup> group = store().CreateSegmentGroup(GroupPatch("g"));
    ASSERT_TRUE(group.ok());
    for (int i = 0; i < 4; ++i) {
      Result<Segment> segment = store().CreateSegment(SegmentPatchFor(group->id, "s"));
      ASSERT_TRUE(segment.ok());
      segments_.push_back(segment->id);
    }
    Result<Customer> customer = store().CreateCustomer(MakeCustomer());
    ASSERT_TRUE(customer.ok());
    customer_ = customer->id;
  }

  std::int64_t ModificationDate() {
    Result<Customer> loaded = store().GetCustomer(customer_, false);
    EXPECT_TRUE(loaded.ok());
    return loaded->modification_date;
  }

  std::vector<std::int64_t> segments_;
  std::int64_t customer_ = 0;
};

TEST_F(SegmentsOfCustomersTest, UnknownCustomerIsNotFound) {
  Result<std::vector<std::int64_t>> result = store().ChangeCustomerSegments(555, {segments_[0]}, {});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Code::kNotFound);
  EXPECT_EQ(result.status().message(), "Customer with ID 555 was not found");
}

TEST_F(SegmentsOfCustomersTest, UnknownSegmentsApplyNothing) {
  Result<std::vector<std::int64_t>> result =
      store().ChangeCustomerSegments(customer_, {segments_[0], 70, 90, 70}, {91});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), Code::kInvalid);
  EXPECT_EQ(result.status().message(), "unknown segment IDs: 70, 90, 91");
  Result<Customer> loaded = store().GetCustomer(customer_, false);
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->segments.empty());

  result = store().ChangeCustomerSegments(customer_, {}, {7000});
  EXPECT_EQ(result.status().message(), "unknown segment ID: 7000");
}

TEST_F(SegmentsOfCustomersTest, AddsThenRemovesAndReturnsAscending) {
  Result<std::vector<std::int64_t>> result =
      store().ChangeCustomerSegments(customer_, {segments_[3], segments_[1], segments_[0]}, {});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.value(), (std::vector<std::int64_t>{segments_[0], segments_[1], segments_[3]}));

  // An id in both lists ends up removed; removing an absent one is a no-op.
  result = store().ChangeCustomerSegments(customer_, {segments_[2]}, {segments_[2], segments_[0]});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.value(), (std::vector<std::int64_t>{segments_[1], segments_[3]}));

  Result<Customer> loaded = store().GetCustomer(customer_, false);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->segments, result.value());
}

TEST_F(SegmentsOfCustomersTest, ModificationDateChangesOnlyWithTheSet) {
  clock_.Advance(10);
  ASSERT_TRUE(store().ChangeCustomerSegments(customer_, {segments_[0]}, {}).ok());
  EXPECT_EQ(ModificationDate(), kStart + 10);

  clock_.Advance(10);
  ASSERT_TRUE(store().ChangeCustomerSegments(customer_, {segments_[0]}, {segments_[1]}).ok());
  EXPECT_EQ(ModificationDate(), kStart + 10);

  // Added and removed in one call: the set is unchanged.
  ASSERT_TRUE(store().ChangeCustomerSegments(customer_, {segments_[2]}, {segments_[2]}).ok());
  EXPECT_EQ(ModificationDate(), kStart + 10);

  ASSERT_TRUE(store().ChangeCustomerSegments(customer_, {}, {segments_[0]}).ok());
  EXPECT_EQ(ModificationDate(), kStart + 20);
}

// ---- activities ----

TEST_F(SqliteStoreTest, CreateActivityForUnknownCustomerIsInvalid) {
  Result<std::pair<Activity, bool>> created = store().CreateActivity(MakeActivity(7, "visit", 1));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), Code::kInvalid);
  EXPECT_EQ(created.status().message(), "customer with ID 7 was not found");
}

TEST_F(SqliteStoreTest, CreateActivityStoresEverything) {
  Result<Customer> customer = store().CreateCustomer(MakeCustomer());
  Activity input = MakeActivity(customer->id, "order", 1234);
  input.o_id = 55;
  input.a_id = "ext-1";
  input.id = 999;
  Result<std::pair<Activity, bool>> created = store().CreateActivity(input);
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_TRUE(created->second);
  EXPECT_EQ(created->first.id, 1);
  Result<Activity> loaded = store().GetActivity(created->first.id);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->customer_id, customer->id);
  EXPECT_EQ(loaded->activity_date, 1234);
  EXPECT_EQ(loaded->type, "order");
  EXPECT_EQ(loaded->implementation_class, "GenericActivity");
  EXPECT_EQ(loaded->o_id, 55);
  EXPECT_EQ(loaded->a_id, "ext-1");
  EXPECT_EQ(loaded->md5, input.md5);
  EXPECT_EQ(loaded->attributes_json, input.attributes_json);
  EXPECT_EQ(loaded->creation_date, kStart);
  EXPECT_EQ(loaded->modification_date, kStart);

  EXPECT_EQ(store().GetActivity(12345).status().message(), "Activity with ID 12345 was not found");
}

TEST_F(SqliteStoreTest, CreateActivityWithSameExternalIdUpdates) {
  Result<Customer> customer = store().CreateCustomer(MakeCustomer());
  Result<Customer> other = store().CreateCustomer(MakeCustomer());
  Activity input = MakeActivity(customer->id, "order", 100);
  input.a_id = "ext-1";
  Result<std::pair<Activity, bool>> first = store().CreateActivity(input);
  ASSERT_TRUE(first.ok());

  clock_.Advance(5);
  input.activity_date = 200;
  input.attributes_json = R"({"changed":true})";
  Result<std::pair<Activity, bool>> again = store().CreateActivity(input);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->second);
  EXPECT_EQ(again->first.id, first->first.id);
  EXPECT_EQ(again->first.creation_date, kStart);
  EXPECT_EQ(again->first.modification_date, kStart + 5);
  Result<Activity> loaded = store().GetActivity(first->first.id);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->activity_date, 200);
  EXPECT_EQ(loaded->attributes_json, R"({"changed":true})");

  // Another type, another customer or no a_id: new rows.
  Activity other_type = input;
  other_type.type = "return";
  Activity other_customer = input;
  other_customer.customer_id = other->id;
  Activity without = input;
  without.a_id.reset();
  for (const Activity& activity : {other_type, other_customer, without, without}) {
    Result<std::pair<Activity, bool>> created = store().CreateActivity(activity);
    ASSERT_TRUE(created.ok());
    EXPECT_TRUE(created->second);
  }
  ListInfo info;
  ListActivities(store(), {}, &info);
  EXPECT_EQ(info.total_rows, 5);
}

TEST_F(SqliteStoreTest, UpdateActivityRules) {
  Result<Customer> customer = store().CreateCustomer(MakeCustomer());
  Result<Customer> other = store().CreateCustomer(MakeCustomer());
  Activity input = MakeActivity(customer->id, "order", 100);
  input.a_id = "ext-1";
  Result<std::pair<Activity, bool>> first = store().CreateActivity(input);
  input.a_id = "ext-2";
  Result<std::pair<Activity, bool>> second = store().CreateActivity(input);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());

  Result<Activity> moved = store().UpdateActivity(first->first.id, [](Activity& a) {
    a.customer_id = 4242;
    return Status::Ok();
  });
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.status().code(), Code::kInvalid);
  EXPECT_EQ(moved.status().message(), "customer with ID 4242 was not found");

  Result<Activity> clash = store().UpdateActivity(second->first.id, [](Activity& a) {
    a.a_id = "ext-1";
    return Status::Ok();
  });
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().code(), Code::kConflict);

  clock_.Advance(3);
  std::int64_t other_id = other->id;
  Result<Activity> updated = store().UpdateActivity(first->first.id, [&](Activity& a) {
    a.customer_id = other_id;
    a.type = "visit";
    a.id = 500;
    return Status::Ok();
  });
  ASSERT_TRUE(updated.ok()) << updated.status().message();
  EXPECT_EQ(updated->id, first->first.id);
  EXPECT_EQ(updated->modification_date, kStart + 3);
  EXPECT_EQ(updated->creation_date, kStart);
  Result<Activity> loaded = store().GetActivity(first->first.id);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->customer_id, other_id);
  EXPECT_EQ(loaded->type, "visit");

  Result<Activity> missing = store().UpdateActivity(999, [](Activity&) { return Status::Ok(); });
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
}

TEST_F(SqliteStoreTest, DeleteActivityRecordsItsType) {
  Result<Customer> customer = store().CreateCustomer(MakeCustomer());
  Result<std::pair<Activity, bool>> created =
      store().CreateActivity(MakeActivity(customer->id, "newsletter-open", 1));
  ASSERT_TRUE(created.ok());
  clock_.Advance(7);
  ASSERT_TRUE(store().DeleteActivity(created->first.id).ok());
  EXPECT_EQ(store().DeleteActivity(created->first.id).code(), Code::kNotFound);

  std::vector<Deletion> deletions = ListDeletions(store(), {"activities", std::nullopt});
  ASSERT_EQ(deletions.size(), 1u);
  EXPECT_EQ(deletions[0].id, created->first.id);
  EXPECT_EQ(deletions[0].type, "newsletter-open");
  EXPECT_EQ(deletions[0].entity_type, "activities");
  EXPECT_EQ(deletions[0].creation_date, kStart + 7);
  EXPECT_TRUE(ListDeletions(store(), {"customers", std::nullopt}).empty());
}

TEST_F(SqliteStoreTest, ListActivitiesOrderAndFilters) {
  Result<Customer> c1 = store().CreateCustomer(MakeCustomer());
  Result<Customer> c2 = store().CreateCustomer(MakeCustomer());
  ASSERT_TRUE(c1.ok());
  ASSERT_TRUE(c2.ok());
  // id 1..5 with dates chosen so that date order differs from id order.
  ASSERT_TRUE(store().CreateActivity(MakeActivity(c1->id, "visit", 30)).ok());   // 1
  ASSERT_TRUE(store().CreateActivity(MakeActivity(c2->id, "order", 10)).ok());   // 2
  clock_.Advance(100);
  ASSERT_TRUE(store().CreateActivity(MakeActivity(c1->id, "order", 30)).ok());   // 3
  ASSERT_TRUE(store().CreateActivity(MakeActivity(c2->id, "visit", 20)).ok());   // 4
  ASSERT_TRUE(store().CreateActivity(MakeActivity(c1->id, "return", 5)).ok());   // 5

  auto ids = [](const std::vector<Activity>& rows) {
    std::vector<std::int64_t> out;
    for (const Activity& a : rows) out.push_back(a.id);
    return out;
  };

  ListInfo info;
  EXPECT_EQ(ids(ListActivities(store(), {}, &info)), (std::vector<std::int64_t>{5, 2, 4, 1, 3}));
  EXPECT_EQ(info.total_rows, 5);

  ActivityQuery query;
  query.page = {2, 2};
  EXPECT_EQ(ids(ListActivities(store(), query)), (std::vector<std::int64_t>{4, 1}));

  query = {};
  query.types = {"order"};
  EXPECT_EQ(ids(ListActivities(store(), query, &info)), (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(info.total_rows, 2);

  query.types = {"order", "return"};
  EXPECT_EQ(ids(ListActivities(store(), query)), (std::vector<std::int64_t>{5, 2, 3}));

  query = {};
  query.modified_since = kStart + 100;  // inclusive
  EXPECT_EQ(ids(ListActivities(store(), query, &info)), (std::vector<std::int64_t>{5, 4, 3}));
  EXPECT_EQ(info.total_rows, 3);

  // With pages of one row the walk along the date order is cheaper.
  query.page = {2, 1};
  EXPECT_EQ(ids(ListActivities(store(), query)), (std::vector<std::int64_t>{4}));
  query.page = {};

  query.customer_id = c1->id;
  EXPECT_EQ(ids(ListActivities(store(), query)), (std::vector<std::int64_t>{5, 3}));

  query = {};
  query.customer_id = 999;
  EXPECT_TRUE(ListActivities(store(), query, &info).empty());
  EXPECT_EQ(info.total_rows, 0);
}

// ---- deletions ----

class DeletionsTest : public SqliteStoreFixture {
 protected:
  // Deletes `count` new customers, one per clock step of `step` seconds.
  std::vector<std::int64_t> DeleteCustomers(int count, std::int64_t step) {
    std::vector<std::int64_t> ids;
    for (int i = 0; i < count; ++i) {
      Result<Customer> customer = store().CreateCustomer(MakeCustomer());
      EXPECT_TRUE(customer.ok());
      EXPECT_TRUE(store().DeleteCustomer(customer->id).ok());
      ids.push_back(customer->id);
      clock_.Advance(step);
    }
    return ids;
  }

  std::vector<Deletion> ScanAll(const DeletionQuery& query, std::int64_t chunk,
                                int* calls = nullptr, std::int64_t* timestamp = nullptr) {
    std::vector<Deletion> rows;
    DeletionCursor cursor;
    std::int64_t ts = -1;
    int count = 0;
    while (count < 1000) {
      ++count;
      Result<std::int64_t> delivered = store().ScanDeletions(
          query, cursor, chunk, ts, [&](const Deletion& d) { rows.push_back(d); });
      EXPECT_TRUE(delivered.ok()) << delivered.status().message();
      if (!delivered.ok() || delivered.value() < chunk) break;
    }
    if (calls != nullptr) *calls = count;
    if (timestamp != nullptr) *timestamp = ts;
    return rows;
  }
};

TEST_F(DeletionsTest, ScanDeliversEveryRowInChunks) {
  // Three per second, so chunk borders fall inside a second.
  std::vector<std::int64_t> ids;
  for (int second = 0; second < 4; ++second) {
    std::vector<std::int64_t> batch = DeleteCustomers(3, 0);
    ids.insert(ids.end(), batch.begin(), batch.end());
    clock_.Advance(1);
  }
  int calls = 0;
  std::int64_t timestamp = 0;
  std::vector<Deletion> rows = ScanAll({"customers", std::nullopt}, 5, &calls, &timestamp);
  ASSERT_EQ(rows.size(), ids.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].id, ids[i]) << "row " << i;
    EXPECT_EQ(rows[i].entity_type, "customers");
  }
  EXPECT_EQ(calls, 3);  // 5 + 5 + 2 rows
  EXPECT_EQ(timestamp, clock_.Get() - 1);
}

TEST_F(DeletionsTest, ScanTimestampIsSetOnFirstCallOnly) {
  DeleteCustomers(4, 1);
  DeletionCursor cursor;
  std::int64_t timestamp = 0;
  int rows = 0;
  auto count = [&](const Deletion&) { ++rows; };
  ASSERT_TRUE(store().ScanDeletions({"customers", std::nullopt}, cursor, 2, timestamp, count).ok());
  std::int64_t first = timestamp;
  clock_.Advance(50);
  timestamp = 0;
  ASSERT_TRUE(store().ScanDeletions({"customers", std::nullopt}, cursor, 2, timestamp, count).ok());
  EXPECT_EQ(timestamp, 0);
  EXPECT_EQ(rows, 4);
  EXPECT_EQ(first, kStart + 4 - 1);
}

TEST_F(DeletionsTest, ScanAndListHonourSince) {
  std::vector<std::int64_t> ids = DeleteCustomers(6, 10);  // at kStart, +10, ... +50
  DeletionQuery query{"customers", kStart + 20};
  std::vector<Deletion> scanned = ScanAll(query, 2);
  ASSERT_EQ(scanned.size(), 4u);
  EXPECT_EQ(scanned.front().id, ids[2]);
  EXPECT_EQ(scanned.front().creation_date, kStart + 20);

  ListInfo info;
  std::vector<Deletion> page = ListDeletions(store(), query, {2, 3}, &info);
  EXPECT_EQ(info.total_rows, 4);
  ASSERT_EQ(page.size(), 1u);
  EXPECT_EQ(page[0].id, ids[5]);
  EXPECT_TRUE(ScanAll({"activities", std::nullopt}, 2).empty());
}

TEST_F(DeletionsTest, ScanRejectsNonPositiveLimit) {
  DeletionCursor cursor;
  std::int64_t timestamp = 0;
  Result<std::int64_t> result = store().ScanDeletions({"customers", std::nullopt}, cursor, 0,
                                                      timestamp, [](const Deletion&) {});
  EXPECT_FALSE(result.ok());
}

// ---- segment groups ----

TEST_F(SqliteStoreTest, SegmentGroupNameRequired) {
  SegmentGroupPatch patch;
  Result<SegmentGroup> created = store().CreateSegmentGroup(patch);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), Code::kInvalid);
  EXPECT_EQ(created.status().message(), "name required");
  patch.name = "";
  EXPECT_EQ(store().CreateSegmentGroup(patch).status().message(), "name required");

  Result<SegmentGroup> group = store().CreateSegmentGroup(GroupPatch("g"));
  ASSERT_TRUE(group.ok());
  EXPECT_EQ(store().UpdateSegmentGroup(group->id, patch).status().message(), "name required");
}

TEST_F(SqliteStoreTest, SegmentGroupFieldsAndDefaults) {
  SegmentGroupPatch patch;
  patch.name = "Interests";
  patch.reference = "interests";
  patch.show_as_filter = true;
  patch.filter_sort_order = 10;
  Result<SegmentGroup> created = store().CreateSegmentGroup(patch);
  ASSERT_TRUE(created.ok());
  Result<SegmentGroup> loaded = store().GetSegmentGroup(created->id);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->name, "Interests");
  EXPECT_EQ(loaded->reference, "interests");
  EXPECT_FALSE(loaded->calculated);
  EXPECT_TRUE(loaded->show_as_filter);
  EXPECT_EQ(loaded->filter_sort_order, 10);
  EXPECT_FALSE(loaded->export_newsletter_provider);
  EXPECT_EQ(loaded->creation_date, kStart);

  clock_.Advance(4);
  SegmentGroupPatch change;
  change.filter_sort_order = std::optional<std::int64_t>();
  change.export_newsletter_provider = true;
  Result<SegmentGroup> updated = store().UpdateSegmentGroup(created->id, change);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->name, "Interests");
  EXPECT_EQ(updated->filter_sort_order, std::nullopt);
  EXPECT_TRUE(updated->export_newsletter_provider);
  EXPECT_EQ(updated->modification_date, kStart + 4);
  EXPECT_EQ(store().GetSegmentGroup(999).status().message(), "Segment group with ID 999 was not found");
}

TEST_F(SqliteStoreTest, SegmentGroupReferenceUniquePerCalculatedFlag) {
  ASSERT_TRUE(store().CreateSegmentGroup(GroupPatch("a", "ref", false)).ok());
  Result<SegmentGroup> clash = store().CreateSegmentGroup(GroupPatch("b", "ref", false));
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().code(), Code::kConflict);
  EXPECT_EQ(clash.status().message(),
            "duplicate segment group - group with reference 'ref' already exists");

  Result<SegmentGroup> calculated = store().CreateSegmentGroup(GroupPatch("c", "ref", true));
  ASSERT_TRUE(calculated.ok());
  // Switching the flag would make it clash with the first group.
  SegmentGroupPatch flip;
  flip.calculated = false;
  EXPECT_EQ(store().UpdateSegmentGroup(calculated->id, flip).status().code(), Code::kConflict);

  // Empty references never clash.
  ASSERT_TRUE(store().CreateSegmentGroup(GroupPatch("d", "", false)).ok());
  EXPECT_TRUE(store().CreateSegmentGroup(GroupPatch("e", "", false)).ok());
}

TEST_F(SqliteStoreTest, SegmentGroupCalculatedCascades) {
  Result<SegmentGroup> group = store().CreateSegmentGroup(GroupPatch("g"));
  Result<Segment> segment = store().CreateSegment(SegmentPatchFor(group->id, "s"));
  ASSERT_TRUE(segment.ok());
  EXPECT_FALSE(segment->calculated);

  clock_.Advance(9);
  SegmentGroupPatch flip;
  flip.calculated = true;
  ASSERT_TRUE(store().UpdateSegmentGroup(group->id, flip).ok());
  Result<Segment> loaded = store().GetSegment(segment->id);
  ASSERT_TRUE(loaded.ok());
  EXPECT_TRUE(loaded->calculated);
  EXPECT_EQ(loaded->modification_date, kStart + 9);
}

TEST_F(SqliteStoreTest, DeleteSegmentGroupRemovesSegmentsAndTouchesCustomers) {
  Result<SegmentGroup> group = store().CreateSegmentGroup(GroupPatch("g"));
  Result<SegmentGroup> kept_group = store().CreateSegmentGroup(GroupPatch("k"));
  Result<Segment> s1 = store().CreateSegment(SegmentPatchFor(group->id, "one"));
  Result<Segment> s2 = store().CreateSegment(SegmentPatchFor(group->id, "two"));
  Result<Segment> kept = store().CreateSegment(SegmentPatchFor(kept_group->id, "kept"));
  Result<Customer> member = store().CreateCustomer(MakeCustomer());
  Result<Customer> outsider = store().CreateCustomer(MakeCustomer());
  ASSERT_TRUE(s1.ok());
  ASSERT_TRUE(s2.ok());
  ASSERT_TRUE(kept.ok());
  ASSERT_TRUE(member.ok());
  ASSERT_TRUE(outsider.ok());
  ASSERT_TRUE(store().ChangeCustomerSegments(member->id, {s2->id, kept->id}, {}).ok());
  ASSERT_TRUE(store().ChangeCustomerSegments(outsider->id, {kept->id}, {}).ok());

  clock_.Advance(30);
  ASSERT_TRUE(store().DeleteSegmentGroup(group->id).ok());
  EXPECT_EQ(store().GetSegmentGroup(group->id).status().code(), Code::kNotFound);
  EXPECT_EQ(store().GetSegment(s1->id).status().code(), Code::kNotFound);
  EXPECT_EQ(store().GetSegment(s2->id).status().code(), Code::kNotFound);
  EXPECT_TRUE(store().GetSegment(kept->id).ok());

  Result<Customer> loaded = store().GetCustomer(member->id, false);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->segments, (std::vector<std::int64_t>{kept->id}));
  EXPECT_EQ(loaded->modification_date, kStart + 30);
  Result<Customer> untouched = store().GetCustomer(outsider->id, false);
  ASSERT_TRUE(untouched.ok());
  EXPECT_EQ(untouched->modification_date, kStart);

  EXPECT_EQ(store().DeleteSegmentGroup(group->id).code(), Code::kNotFound);
}

TEST_F(SqliteStoreTest, ListSegmentGroupsPages) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store().CreateSegmentGroup(GroupPatch("g")).ok());
  std::vector<std::int64_t> ids;
  Result<ListInfo> info = store().ListSegmentGroups(
      {2, 2}, [&](const SegmentGroup& g) { ids.push_back(g.id); });
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->total_rows, 5);
  EXPECT_EQ(ids, (std::vector<std::int64_t>{3, 4}));
}

// ---- segments ----

TEST_F(SqliteStoreTest, SegmentGroupRulesInOrder) {
  SegmentPatch patch;
  EXPECT_EQ(store().CreateSegment(patch).status().message(), "group required");
  patch.group = 0;
  EXPECT_EQ(store().CreateSegment(patch).status().message(), "group required");
  patch.group = 77;
  EXPECT_EQ(store().CreateSegment(patch).status().message(), "group not found");

  Result<SegmentGroup> group = store().CreateSegmentGroup(GroupPatch("g", std::nullopt, true));
  ASSERT_TRUE(group.ok());
  patch.group = group->id;
  Result<Segment> unnamed = store().CreateSegment(patch);
  EXPECT_EQ(unnamed.status().code(), Code::kInvalid);
  EXPECT_EQ(unnamed.status().message(), "name required");

  patch.name = "s";
  patch.calculated = false;
  Result<Segment> mismatch = store().CreateSegment(patch);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_EQ(mismatch.status().code(), Code::kInvalid);
  EXPECT_EQ(mismatch.status().message(),
            "calculated is false, but segment group " + std::to_string(group->id) +
                " is calculated; a segment must have the calculated flag of its group");

  patch.calculated.reset();
  Result<Segment> created = store().CreateSegment(patch);
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_TRUE(created->calculated);
  EXPECT_EQ(created->group, group->id);
  EXPECT_EQ(created->creation_date, kStart);
}

TEST_F(SqliteStoreTest, SegmentReferenceUniqueWithinGroup) {
  Result<SegmentGroup> g1 = store().CreateSegmentGroup(GroupPatch("g1"));
  Result<SegmentGroup> g2 = store().CreateSegmentGroup(GroupPatch("g2"));
  ASSERT_TRUE(store().CreateSegment(SegmentPatchFor(g1->id, "a", "run-shoes")).ok());
  Result<Segment> clash = store().CreateSegment(SegmentPatchFor(g1->id, "b", "run-shoes"));
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().code(), Code::kConflict);
  EXPECT_EQ(clash.status().message(),
            "duplicate segment - segment with reference 'run-shoes' already exists in this group");

  Result<Segment> elsewhere = store().CreateSegment(SegmentPatchFor(g2->id, "c", "run-shoes"));
  ASSERT_TRUE(elsewhere.ok());
  // Moving it into g1 clashes too.
  SegmentPatch move;
  move.group = g1->id;
  EXPECT_EQ(store().UpdateSegment(elsewhere->id, move).status().code(), Code::kConflict);
}

TEST_F(SqliteStoreTest, MovedSegmentTakesNewGroupFlag) {
  Result<SegmentGroup> manual = store().CreateSegmentGroup(GroupPatch("m", std::nullopt, false));
  Result<SegmentGroup> calculated = store().CreateSegmentGroup(GroupPatch("c", std::nullopt, true));
  Result<Segment> segment = store().CreateSegment(SegmentPatchFor(manual->id, "s"));
  ASSERT_TRUE(segment.ok());

  SegmentPatch wrong;
  wrong.group = calculated->id;
  wrong.calculated = false;
  EXPECT_EQ(store().UpdateSegment(segment->id, wrong).status().code(), Code::kInvalid);

  clock_.Advance(2);
  SegmentPatch move;
  move.group = calculated->id;
  move.use_as_target_group = true;
  Result<Segment> moved = store().UpdateSegment(segment->id, move);
  ASSERT_TRUE(moved.ok()) << moved.status().message();
  EXPECT_EQ(moved->group, calculated->id);
  EXPECT_TRUE(moved->calculated);
  EXPECT_TRUE(moved->use_as_target_group);
  EXPECT_EQ(moved->name, "s");
  EXPECT_EQ(moved->modification_date, kStart + 2);

  SegmentPatch rename;
  rename.name = "";
  EXPECT_EQ(store().UpdateSegment(segment->id, rename).status().message(), "name required");
  EXPECT_EQ(store().UpdateSegment(4242, rename).status().message(),
            "Segment with ID 4242 was not found");
}

TEST_F(SqliteStoreTest, DeleteSegmentRemovesAssignments) {
  Result<SegmentGroup> group = store().CreateSegmentGroup(GroupPatch("g"));
  Result<Segment> gone = store().CreateSegment(SegmentPatchFor(group->id, "gone"));
  Result<Segment> kept = store().CreateSegment(SegmentPatchFor(group->id, "kept"));
  Result<Customer> member = store().CreateCustomer(MakeCustomer());
  ASSERT_TRUE(gone.ok());
  ASSERT_TRUE(kept.ok());
  ASSERT_TRUE(member.ok());
  ASSERT_TRUE(store().ChangeCustomerSegments(member->id, {gone->id, kept->id}, {}).ok());

  clock_.Advance(8);
  ASSERT_TRUE(store().DeleteSegment(gone->id).ok());
  Result<Customer> loaded = store().GetCustomer(member->id, false);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->segments, (std::vector<std::int64_t>{kept->id}));
  EXPECT_EQ(loaded->modification_date, kStart + 8);
  EXPECT_EQ(store().DeleteSegment(gone->id).code(), Code::kNotFound);
}

TEST_F(SqliteStoreTest, ListSegmentsByGroup) {
  Result<SegmentGroup> g1 = store().CreateSegmentGroup(GroupPatch("g1"));
  Result<SegmentGroup> g2 = store().CreateSegmentGroup(GroupPatch("g2"));
  for (std::int64_t group : {g1->id, g2->id, g1->id, g2->id, g1->id}) {
    ASSERT_TRUE(store().CreateSegment(SegmentPatchFor(group, "s")).ok());
  }
  SegmentQuery query;
  query.group = g1->id;
  std::vector<std::int64_t> ids;
  Result<ListInfo> info =
      store().ListSegments(query, [&](const Segment& s) { ids.push_back(s.id); });
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(ids, (std::vector<std::int64_t>{1, 3, 5}));
  EXPECT_EQ(info->total_rows, 3);

  query = {};
  query.page = {1, 2};
  ids.clear();
  info = store().ListSegments(query, [&](const Segment& s) { ids.push_back(s.id); });
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(ids, (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(info->total_rows, 5);
}

// ---- bulk import ----

TEST_F(SqliteStoreTest, ImportWritesBatchAndRejectsBadRows) {
  Open(ExtraFieldOptions());
  Result<SegmentGroup> group = store().CreateSegmentGroup(GroupPatch("g"));
  Result<Segment> segment = store().CreateSegment(SegmentPatchFor(group->id, "s"));
  ASSERT_TRUE(segment.ok());

  ImportBatch batch;
  Customer first = MakeCustomer();
  first.extra = {"\"100\"", std::nullopt};
  Customer clash = first;  // same customerNumber: rejected
  Customer second = MakeCustomer();
  second.extra = {"\"101\"", std::nullopt};
  batch.customers = {first, clash, second};
  // Customers of the batch get ids 1 and 2 (the clash takes none).
  Activity activity = MakeActivity(1, "order", 10);
  activity.a_id = "ext";
  Activity again = activity;  // same a_id: updates the first
  again.activity_date = 20;
  batch.activities = {activity, MakeActivity(999, "order", 10), again};
  batch.assignments = {{2, {segment->id}, {}}, {1, {segment->id, 4242}, {}}};

  clock_.Advance(3);
  Result<ImportCounts> counts = store().Import(batch);
  ASSERT_TRUE(counts.ok()) << counts.status().message();
  EXPECT_EQ(counts->customers_created, 2);
  EXPECT_EQ(counts->activities_created, 1);
  EXPECT_EQ(counts->activities_updated, 1);
  EXPECT_EQ(counts->assignments_applied, 1);
  ASSERT_EQ(counts->rejected.size(), 3u);
  EXPECT_EQ(counts->rejected[0].kind, ImportRejection::Kind::kCustomer);
  EXPECT_EQ(counts->rejected[0].index, 1u);
  EXPECT_EQ(counts->rejected[0].status.code(), Code::kConflict);
  EXPECT_EQ(counts->rejected[1].kind, ImportRejection::Kind::kActivity);
  EXPECT_EQ(counts->rejected[1].index, 1u);
  EXPECT_EQ(counts->rejected[1].status.message(), "customer with ID 999 was not found");
  EXPECT_EQ(counts->rejected[2].kind, ImportRejection::Kind::kAssignment);
  EXPECT_EQ(counts->rejected[2].index, 1u);
  EXPECT_EQ(counts->rejected[2].status.message(), "unknown segment ID: 4242");

  // Ids and dates are written back into the batch, for written rows only.
  EXPECT_EQ(batch.customers[0].id, 1);
  EXPECT_EQ(batch.customers[0].creation_date, kStart + 3);
  EXPECT_EQ(batch.customers[0].id_encoded.size(), 32u);
  EXPECT_EQ(batch.customers[1].id, 0);
  EXPECT_EQ(batch.customers[2].id, 2);
  EXPECT_EQ(batch.activities[0].id, 1);
  EXPECT_EQ(batch.activities[2].id, 1);
  EXPECT_EQ(batch.activities[1].id, 0);

  Result<Customer> loaded = store().GetCustomer(2, true);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->segments, (std::vector<std::int64_t>{segment->id}));
  Result<Customer> untouched = store().GetCustomer(1, true);
  ASSERT_TRUE(untouched.ok());
  EXPECT_TRUE(untouched->segments.empty());
  ASSERT_EQ(untouched->activities->size(), 1u);
  EXPECT_EQ((*untouched->activities)[0].activity_date, 20);
}

// ---- API keys ----

TEST_F(SqliteStoreTest, ApiKeysCreateListRevoke) {
  Result<ApiKey> shop = store().CreateApiKey("shop", "hash-1", false);
  Result<ApiKey> report = store().CreateApiKey("report", "hash-2", true);
  ASSERT_TRUE(shop.ok());
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(shop->creation_date, kStart);
  EXPECT_FALSE(shop->last_used.has_value());

  Result<ApiKey> again = store().CreateApiKey("shop", "hash-3", false);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Code::kConflict);
  EXPECT_NE(again.status().message().find("\"shop\""), std::string::npos);

  Result<std::vector<ApiKey>> keys = store().ListApiKeys();
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ(keys.value()[0].name, "shop");
  EXPECT_EQ(keys.value()[1].name, "report");
  EXPECT_TRUE(keys.value()[1].read_only);

  ASSERT_TRUE(store().RevokeApiKey("shop").ok());
  Status missing = store().RevokeApiKey("shop");
  EXPECT_EQ(missing.code(), Code::kNotFound);
  Result<std::optional<ApiKey>> found = store().FindApiKey("hash-1");
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
  // A revoked name can be used again.
  EXPECT_TRUE(store().CreateApiKey("shop", "hash-4", false).ok());
}

TEST_F(SqliteStoreTest, FindApiKeyRecordsUseOncePerMinute) {
  ASSERT_TRUE(store().CreateApiKey("shop", "hash-1", true).ok());
  clock_.Advance(5);
  Result<std::optional<ApiKey>> found = store().FindApiKey("hash-1");
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(found.value()->name, "shop");
  EXPECT_TRUE(found.value()->read_only);
  EXPECT_EQ(found.value()->last_used, kStart + 5);

  auto stored_last_used = [&] {
    Result<std::vector<ApiKey>> keys = store().ListApiKeys();
    EXPECT_TRUE(keys.ok());
    return keys->at(0).last_used;
  };
  EXPECT_EQ(stored_last_used(), kStart + 5);

  clock_.Advance(30);
  ASSERT_TRUE(store().FindApiKey("hash-1").ok());
  EXPECT_EQ(stored_last_used(), kStart + 5);

  clock_.Advance(30);
  ASSERT_TRUE(store().FindApiKey("hash-1").ok());
  EXPECT_EQ(stored_last_used(), kStart + 65);

  Result<std::optional<ApiKey>> unknown = store().FindApiKey("nope");
  ASSERT_TRUE(unknown.ok());
  EXPECT_FALSE(unknown->has_value());
}

}  // namespace
}  // namespace cmfd

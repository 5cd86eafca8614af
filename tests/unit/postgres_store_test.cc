// The rules of the Store methods on the PostgreSQL backend, and what only a
// server database has: several connections (standing in for several cmfd
// processes), the sync timestamp with a write transaction still open, and
// lost connections.
//
// Runs when CMFD_TEST_POSTGRES_URL names a server where the user may create
// databases (scripts/pg-cluster.sh starts a throwaway one); each test suite
// gets a database of its own, emptied before every test.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "storage/postgres/pg_schema.h"
#include "storage/postgres/postgres_store.h"
#include "storage/store.h"

namespace cmfd {
namespace {

// ---- a database per test suite ----

// A raw libpq connection for setting up and inspecting the database.
class RawConnection {
 public:
  explicit RawConnection(const std::string& conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
    // NOTICEs such as "drop cascades to ..." would only clutter the test log.
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  }
  ~RawConnection() { PQfinish(conn_); }
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  std::string error() const { return PQerrorMessage(conn_); }

  // Runs `sql` and returns the first column of the first row ("" when none);
  // a failure is a test failure.
  std::string Query(const std::string& sql) {
    PGresult* result = PQexec(conn_, sql.c_str());
    ExecStatusType status = PQresultStatus(result);
    EXPECT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        << sql << ": " << PQresultErrorMessage(result);
    std::string value;
    if (status == PGRES_TUPLES_OK && PQntuples(result) > 0) value = PQgetvalue(result, 0, 0);
    PQclear(result);
    return value;
  }

  std::int64_t QueryInt(const std::string& sql) { return std::stoll(Query(sql)); }

 private:
  PGconn* conn_;
};

// `base` (a URL or keyword string) with its database replaced by `dbname`,
// as a keyword string.
std::string WithDatabase(const std::string& base, const std::string& dbname) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(base.c_str(), &error);
  if (options == nullptr) {
    ADD_FAILURE() << "CMFD_TEST_POSTGRES_URL is not a connection string: "
                  << (error ? error : "?");
    PQfreemem(error);
    return "";
  }
  std::string conninfo;
  for (PQconninfoOption* option = options; option->keyword != nullptr; ++option) {
    if (option->val == nullptr || std::string(option->keyword) == "dbname") continue;
    std::string value = option->val;
    std::string quoted;
    for (char c : value) {
      if (c == '\'' || c == '\\') quoted += '\\';
      quoted += c;
    }
    conninfo += std::string(option->keyword) + "='" + quoted + "' ";
  }
  PQconninfoFree(options);
  return conninfo + "dbname=" + dbname;
}

class PostgresStoreTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* url = std::getenv("CMFD_TEST_POSTGRES_URL");
    if (url == nullptr || *url == '\0') return;
    base_url_ = url;
    std::random_device random;
    db_name_ = "cmfd_unit_" + std::to_string(getpid()) + "_" + std::to_string(random() % 100000);
    RawConnection admin(base_url_);
    ASSERT_TRUE(admin.ok()) << admin.error();
    admin.Query("CREATE DATABASE " + db_name_);
    db_url_ = WithDatabase(base_url_, db_name_);
  }

  static void TearDownTestSuite() {
    if (db_name_.empty()) return;
    RawConnection admin(base_url_);
    if (admin.ok()) admin.Query("DROP DATABASE IF EXISTS " + db_name_ + " WITH (FORCE)");
    db_name_.clear();
  }

  void SetUp() override {
    if (base_url_.empty()) {
      GTEST_SKIP() << "CMFD_TEST_POSTGRES_URL is not set; start a server with "
                      "scripts/pg-cluster.sh start DIR and export the URL it prints";
    }
    // An empty schema per test: every test starts from migration 1 and id 1.
    RawConnection raw(db_url_);
    ASSERT_TRUE(raw.ok()) << raw.error();
    raw.Query("DROP SCHEMA public CASCADE");
    raw.Query("CREATE SCHEMA public");
    Open();
  }

  void Open(const StoreOptions& options = {}) {
    store_.reset();
    Result<std::unique_ptr<Store>> opened = OpenPostgresStore(db_url_, options);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    store_ = std::move(opened.value());
  }

  Store& store() { return *store_; }

  static std::string base_url_;
  static std::string db_name_;
  static std::string db_url_;
  std::unique_ptr<Store> store_;
};

std::string PostgresStoreTest::base_url_;
std::string PostgresStoreTest::db_name_;
std::string PostgresStoreTest::db_url_;

// ---- record builders ----

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

// ---- opening and migrations ----

TEST_F(PostgresStoreTest, PingAndCallsMayBlock) {
  EXPECT_TRUE(store().Ping().ok());
  EXPECT_TRUE(store().CallsMayBlock());
}

TEST_F(PostgresStoreTest, MigrationIsRecordedAndReopenKeepsData) {
  Result<Customer> created = store().CreateCustomer(MakeCustomer("a@example.com"));
  ASSERT_TRUE(created.ok()) << created.status().message();
  Open();
  Result<Customer> loaded = store().GetCustomer(created->id, false);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(loaded->email, "a@example.com");

  RawConnection raw(db_url_);
  EXPECT_EQ(raw.QueryInt("SELECT max(version) FROM schema_migrations"),
            pg::kPostgresSchemaVersion);
  EXPECT_EQ(raw.QueryInt("SELECT count(*) FROM schema_migrations"), pg::kPostgresSchemaVersion);
}

TEST_F(PostgresStoreTest, NewerSchemaIsRejected) {
  store_.reset();
  RawConnection raw(db_url_);
  raw.Query("INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)");

  Result<std::unique_ptr<Store>> opened = OpenPostgresStore(db_url_, StoreOptions{});
  ASSERT_FALSE(opened.ok());
  const std::string& message = opened.status().message();
  EXPECT_NE(message.find("99"), std::string::npos) << message;
  EXPECT_NE(message.find("(" + std::to_string(pg::kPostgresSchemaVersion) + ")"),
            std::string::npos)
      << message;
}

TEST_F(PostgresStoreTest, ConcurrentOpensMigrateOnce) {
  store_.reset();
  RawConnection raw(db_url_);
  raw.Query("DROP SCHEMA public CASCADE");
  raw.Query("CREATE SCHEMA public");

  // Two processes starting at once: the advisory lock makes one wait.
  auto open = [&] { return OpenPostgresStore(db_url_, StoreOptions{}); };
  std::future<Result<std::unique_ptr<Store>>> first = std::async(std::launch::async, open);
  std::future<Result<std::unique_ptr<Store>>> second = std::async(std::launch::async, open);
  Result<std::unique_ptr<Store>> a = first.get();
  Result<std::unique_ptr<Store>> b = second.get();
  EXPECT_TRUE(a.ok()) << a.status().message();
  EXPECT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(raw.QueryInt("SELECT count(*) FROM schema_migrations"), pg::kPostgresSchemaVersion);
}

TEST_F(PostgresStoreTest, UnreachableServerIsUnavailable) {
  // Port 1 on 127.0.0.1 refuses connections at once.
  Result<std::unique_ptr<Store>> opened =
      OpenPostgresStore("postgresql://postgres@127.0.0.1:1/postgres", StoreOptions{});
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), Code::kUnavailable);
  EXPECT_EQ(opened.status().message().rfind("database unavailable: ", 0), 0u)
      << opened.status().message();
}

TEST_F(PostgresStoreTest, UnknownDuplicateFieldIsRejected) {
  StoreOptions options;
  options.customer.duplicate_check = {"shoeSize"};
  Result<std::unique_ptr<Store>> opened = OpenPostgresStore(db_url_, options);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().message(),
            "customer.duplicate_check names unknown customer field \"shoeSize\"");
}

// ---- customers ----

TEST_F(PostgresStoreTest, CreateCustomerSetsIdDatesAndToken) {
  RawConnection raw(db_url_);
  std::int64_t before = raw.QueryInt("SELECT floor(extract(epoch FROM clock_timestamp()))");
  Customer input = MakeCustomer("ada@example.com");
  input.id = 999;        // ignored
  input.segments = {4};  // read-only, ignored
  Result<Customer> created = store().CreateCustomer(input);
  ASSERT_TRUE(created.ok()) << created.status().message();
  std::int64_t after = raw.QueryInt("SELECT floor(extract(epoch FROM clock_timestamp()))");

  EXPECT_EQ(created->id, 1);
  EXPECT_GE(created->creation_date, before);  // the database's clock
  EXPECT_LE(created->creation_date, after);
  EXPECT_EQ(created->modification_date, created->creation_date);
  EXPECT_EQ(created->id_encoded.size(), 32u);
  EXPECT_TRUE(created->segments.empty());

  Result<Customer> loaded = store().GetCustomer(created->id, false);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->id_encoded, created->id_encoded);
  EXPECT_EQ(loaded->creation_date, created->creation_date);
  EXPECT_FALSE(loaded->activities.has_value());
}

TEST_F(PostgresStoreTest, AllCustomerFieldsRoundTrip) {
  Customer input;
  input.active = false;
  input.gender = "female";
  input.firstname = "";
  input.lastname = "Müller \"quoted\" 'single' \\";
  input.birthdate = "1990-02-28";
  input.street = "Main St 1";
  input.zip = "12345";
  input.city = "Berlin";
  input.phone = "+49 30 1";
  input.country_code = "DE";
  input.email = "X@Example.com";
  input.profiling_consent = true;
  input.password_hash = "$argon2id$v=19$...";
  input.id_encoded = "my-token";
  Result<Customer> created = store().CreateCustomer(input);
  ASSERT_TRUE(created.ok()) << created.status().message();
  Result<Customer> loaded = store().GetCustomer(created->id, false);
  ASSERT_TRUE(loaded.ok());
  EXPECT_FALSE(loaded->active);
  EXPECT_EQ(loaded->gender, "female");
  EXPECT_EQ(loaded->firstname, "");
  EXPECT_EQ(loaded->lastname, "Müller \"quoted\" 'single' \\");
  EXPECT_EQ(loaded->birthdate, "1990-02-28");
  EXPECT_EQ(loaded->street, "Main St 1");
  EXPECT_EQ(loaded->zip, "12345");
  EXPECT_EQ(loaded->city, "Berlin");
  EXPECT_EQ(loaded->phone, "+49 30 1");
  EXPECT_EQ(loaded->country_code, "DE");
  EXPECT_EQ(loaded->email, "X@Example.com");
  EXPECT_TRUE(loaded->profiling_consent);
  EXPECT_EQ(loaded->password_hash, "$argon2id$v=19$...");
  EXPECT_EQ(loaded->id_encoded, "my-token");
  EXPECT_EQ(loaded->gender, "female");
}

TEST_F(PostgresStoreTest, NulCharacterIsRejectedNotCut) {
  // PostgreSQL text cannot hold U+0000; storing "a" for "a\0b" would change the data.
  Customer input = MakeCustomer();
  input.firstname = std::string("a\0b", 3);
  Result<Customer> created = store().CreateCustomer(input);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), Code::kInvalid);
  EXPECT_EQ(created.status().message(),
            "firstname: invalid value, contains the character U+0000, which the PostgreSQL "
            "database cannot store");

  Result<Customer> customer = store().CreateCustomer(MakeCustomer());
  ASSERT_TRUE(customer.ok());
  Activity activity = MakeActivity(customer->id, std::string("t\0", 2), 1);
  EXPECT_EQ(store().CreateActivity(activity).status().code(), Code::kInvalid);
  EXPECT_EQ(store().CreateSegmentGroup(GroupPatch(std::string("g\0", 2))).status().code(),
            Code::kInvalid);
  RawConnection raw(db_url_);
  EXPECT_EQ(raw.QueryInt("SELECT count(*) FROM activities"), 0);
  EXPECT_EQ(raw.QueryInt("SELECT count(*) FROM segment_groups"), 0);
}

TEST_F(PostgresStoreTest, IdsAreNeverReusedAfterDelete) {
  Result<Customer> first = store().CreateCustomer(MakeCustomer());
  Result<Customer> second = store().CreateCustomer(MakeCustomer());
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE(store().DeleteCustomer(second->id).ok());
  Open();
  Result<Customer> third = store().CreateCustomer(MakeCustomer());
  ASSERT_TRUE(third.ok());
  EXPECT_GT(third->id, second->id);
}

TEST_F(PostgresStoreTest, UnknownIdsAreNotFound) {
  Result<Customer> customer = store().GetCustomer(42, false);
  ASSERT_FALSE(customer.ok());
  EXPECT_EQ(customer.status().code(), Code::kNotFound);
  EXPECT_EQ(customer.status().message(), "Customer with ID 42 was not found");

  Result<Customer> updated = store().UpdateCustomer(42, [](Customer&) { return Status::Ok(); });
  EXPECT_EQ(updated.status().message(), "Customer with ID 42 was not found");
  EXPECT_EQ(store().DeleteCustomer(42).message(), "Customer with ID 42 was not found");
  EXPECT_EQ(store().GetActivity(43).status().message(), "Activity with ID 43 was not found");
  EXPECT_EQ(store().DeleteActivity(43).message(), "Activity with ID 43 was not found");
  EXPECT_EQ(store().GetSegment(44).status().message(), "Segment with ID 44 was not found");
  EXPECT_EQ(store().DeleteSegment(44).message(), "Segment with ID 44 was not found");
  EXPECT_EQ(store().GetSegmentGroup(45).status().message(),
            "Segment group with ID 45 was not found");
  EXPECT_EQ(store().DeleteSegmentGroup(45).message(), "Segment group with ID 45 was not found");
}

TEST_F(PostgresStoreTest, UpdateCustomerAppliesModifyAndKeepsIdentity) {
  Result<Customer> created = store().CreateCustomer(MakeCustomer("a@example.com"));
  ASSERT_TRUE(created.ok());
  Result<Customer> updated = store().UpdateCustomer(created->id, [](Customer& c) {
    c.city = "Paris";
    c.id = 77;  // ignored
    c.creation_date = 5;
    c.id_encoded.clear();
    return Status::Ok();
  });
  ASSERT_TRUE(updated.ok()) << updated.status().message();
  EXPECT_EQ(updated->id, created->id);
  EXPECT_EQ(updated->city, "Paris");
  EXPECT_EQ(updated->creation_date, created->creation_date);
  EXPECT_GE(updated->modification_date, created->modification_date);
  EXPECT_EQ(updated->id_encoded, created->id_encoded);

  Result<Customer> refused = store().UpdateCustomer(created->id, [](Customer& c) {
    c.city = "Rome";
    return Status::Invalid("city: no");
  });
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(), "city: no");
  EXPECT_EQ(store().GetCustomer(created->id, false)->city, "Paris");
}

TEST_F(PostgresStoreTest, DeleteCustomerRecordsItAndItsActivities) {
  Result<Customer> customer = store().CreateCustomer(MakeCustomer());
  ASSERT_TRUE(customer.ok());
  Result<std::pair<Activity, bool>> a1 = store().CreateActivity(MakeActivity(customer->id, "buy", 5));
  Result<std::pair<Activity, bool>> a2 =
      store().CreateActivity(MakeActivity(customer->id, "visit", 6));
  ASSERT_TRUE(a1.ok());
  ASSERT_TRUE(a2.ok());
  Result<SegmentGroup> group = store().CreateSegmentGroup(GroupPatch("g"));
  Result<Segment> segment = store().CreateSegment(SegmentPatchFor(group->id, "s"));
  ASSERT_TRUE(store().ChangeCustomerSegments(customer->id, {segment->id}, {}).ok());

  ASSERT_TRUE(store().DeleteCustomer(customer->id).ok());
  EXPECT_EQ(store().GetActivity(a1->first.id).status().code(), Code::kNotFound);

  std::vector<Deletion> customers = ListDeletions(store(), {"customers", std::nullopt});
  ASSERT_EQ(customers.size(), 1u);
  EXPECT_EQ(customers[0].id, customer->id);
  EXPECT_EQ(customers[0].type, "");
  std::vector<Deletion> activities = ListDeletions(store(), {"activities", std::nullopt});
  ASSERT_EQ(activities.size(), 2u);
  EXPECT_EQ(activities[0].id, a1->first.id);
  EXPECT_EQ(activities[0].type, "buy");
  EXPECT_EQ(activities[1].id, a2->first.id);
  EXPECT_EQ(activities[1].type, "visit");
  EXPECT_EQ(activities[0].creation_date, customers[0].creation_date);

  RawConnection raw(db_url_);
  EXPECT_EQ(raw.QueryInt("SELECT count(*) FROM customer_segments"), 0);
}

TEST_F(PostgresStoreTest, ExtraFieldsAndUniqueConflicts) {
  Open(ExtraFieldOptions());
  Customer first = MakeCustomer();
  first.extra = {"\"12346\"", "\"gold\""};
  Result<Customer> stored = store().CreateCustomer(first);
  ASSERT_TRUE(stored.ok()) << stored.status().message();
  Result<Customer> loaded = store().GetCustomer(stored->id, false);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->extra, (std::vector<std::optional<std::string>>{"\"12346\"", "\"gold\""}));

  Result<Customer> clash = store().CreateCustomer(first);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().code(), Code::kConflict);
  EXPECT_EQ(clash.status().message(),
            "customerNumber \"12346\" is already used by customer " + std::to_string(stored->id));

  // Changing the value frees the old one; deleting the customer frees its value.
  ASSERT_TRUE(store().UpdateCustomer(stored->id, [](Customer& c) {
    c.extra[0] = "\"B\"";
    return Status::Ok();
  }).ok());
  Result<Customer> takes_old = store().CreateCustomer(first);
  ASSERT_TRUE(takes_old.ok()) << takes_old.status().message();
  ASSERT_TRUE(store().DeleteCustomer(stored->id).ok());
  first.extra[0] = "\"B\"";
  EXPECT_TRUE(store().CreateCustomer(first).ok());

  CustomerQuery query;
  query.extra_equals = {{0, "\"12346\""}};
  EXPECT_EQ(Ids(ListCustomers(store(), query)), (std::vector<std::int64_t>{takes_old->id}));
}

TEST_F(PostgresStoreTest, DuplicateCheckFoldsAsciiCaseOnly) {
  StoreOptions options = ExtraFieldOptions();
  options.customer.duplicate_check = {"email", "loyaltyTier"};
  Open(options);
  Customer input = MakeCustomer("Ada@Example.com");
  input.extra = {std::nullopt, "\"Gold\""};
  Result<Customer> first = store().CreateCustomer(input);
  ASSERT_TRUE(first.ok()) << first.status().message();

  Customer same = input;
  same.email = "ada@example.COM";
  same.extra[1] = "\"gold\"";
  Result<Customer> clash = store().CreateCustomer(same);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.status().code(), Code::kConflict);
  EXPECT_EQ(clash.status().message(), "Duplicate customer found: customer " +
                                          std::to_string(first->id) +
                                          " has the same email and loyaltyTier");

  // SQLite's lower() folds A-Z only, so "É" and "é" differ on both backends.
  Customer accented = input;
  accented.email = "Émile@example.com";
  ASSERT_TRUE(store().CreateCustomer(accented).ok());
  accented.email = "émile@example.com";
  EXPECT_TRUE(store().CreateCustomer(accented).ok());

  // Without every field the check does not apply, and nobody duplicates themselves.
  Customer no_tier = same;
  no_tier.extra[1] = std::nullopt;
  EXPECT_TRUE(store().CreateCustomer(no_tier).ok());
  Result<Customer> self = store().UpdateCustomer(first->id, [](Customer& c) {
    c.email = "ADA@example.com";
    return Status::Ok();
  });
  EXPECT_TRUE(self.ok()) << self.status().message();
}

TEST_F(PostgresStoreTest, ListCustomersFiltersAndPages) {
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(store().CreateCustomer(MakeCustomer()).ok());
  CustomerQuery query;
  query.page = {2, 3};
  ListInfo info;
  EXPECT_EQ(Ids(ListCustomers(store(), query, &info)), (std::vector<std::int64_t>{4, 5, 6}));
  EXPECT_EQ(info.total_rows, 7);
  query.page = {9, 3};
  EXPECT_TRUE(ListCustomers(store(), query, &info).empty());
  EXPECT_EQ(info.total_rows, 7);
  query.page = {0, 3};
  Result<ListInfo> bad = store().ListCustomers(query, [](const Customer&) {});
  EXPECT_EQ(bad.status().message(), "page must be at least 1, got 0");
  query.page = {std::numeric_limits<std::int64_t>::max(), 1000};
  EXPECT_TRUE(ListCustomers(store(), query, &info).empty());

  Result<Customer> mail = store().CreateCustomer(MakeCustomer("Bob@Example.org"));
  CustomerQuery by_email;
  by_email.email = "bob@EXAMPLE.org";
  EXPECT_EQ(Ids(ListCustomers(store(), by_email)), (std::vector<std::int64_t>{mail->id}));

  Result<SegmentGroup> group = store().CreateSegmentGroup(GroupPatch("g"));
  Result<Segment> s1 = store().CreateSegment(SegmentPatchFor(group->id, "s1"));
  Result<Segment> s2 = store().CreateSegment(SegmentPatchFor(group->id, "s2"));
  ASSERT_TRUE(store().ChangeCustomerSegments(2, {s1->id, s2->id}, {}).ok());
  ASSERT_TRUE(store().ChangeCustomerSegments(3, {s1->id}, {}).ok());
  CustomerQuery by_segments;
  by_segments.segments_all = {s1->id, s2->id, s1->id};
  EXPECT_EQ(Ids(ListCustomers(store(), by_segments)), (std::vector<std::int64_t>{2}));
  by_segments.segments_all = {s1->id};
  EXPECT_EQ(Ids(ListCustomers(store(), by_segments)), (std::vector<std::int64_t>{2, 3}));
  by_segments.segments_all = {s1->id, 999};
  EXPECT_TRUE(ListCustomers(store(), by_segments).empty());

  Result<Customer> two = store().GetCustomer(2, false);
  CustomerQuery modified;
  modified.modified_after = two->modification_date;  // strictly after
  for (const Customer& c : ListCustomers(store(), modified)) {
    EXPECT_GT(c.modification_date, two->modification_date);
  }
}

TEST_F(PostgresStoreTest, ListCustomersWithActivities) {
  Result<Customer> c1 = store().CreateCustomer(MakeCustomer());
  Result<Customer> c2 = store().CreateCustomer(MakeCustomer());
  Result<Customer> c3 = store().CreateCustomer(MakeCustomer());
  ASSERT_TRUE(store().CreateActivity(MakeActivity(c1->id, "late", 20)).ok());
  ASSERT_TRUE(store().CreateActivity(MakeActivity(c1->id, "early", 10)).ok());
  ASSERT_TRUE(store().CreateActivity(MakeActivity(c3->id, "only", 30)).ok());

  CustomerQuery query;
  query.include_activities = true;
  std::vector<Customer> rows = ListCustomers(store(), query);
  ASSERT_EQ(rows.size(), 3u);
  ASSERT_TRUE(rows[0].activities.has_value());
  ASSERT_EQ(rows[0].activities->size(), 2u);
  EXPECT_EQ((*rows[0].activities)[0].type, "early");
  EXPECT_EQ((*rows[0].activities)[1].type, "late");
  ASSERT_TRUE(rows[1].activities.has_value());
  EXPECT_TRUE(rows[1].activities->empty());
  ASSERT_EQ(rows[2].activities->size(), 1u);
  EXPECT_EQ((*rows[2].activities)[0].type, "only");

  Result<Customer> one = store().GetCustomer(c1->id, true);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->activities->size(), 2u);
  EXPECT_EQ((*one->activities)[0].type, "early");
  (void)c2;
}

TEST_F(PostgresStoreTest, ChangeCustomerSegmentsRules) {
  Result<Customer> customer = store().CreateCustomer(MakeCustomer());
  Result<SegmentGroup> group = store().CreateSegmentGroup(GroupPatch("g"));
  Result<Segment> s1 = store().CreateSegment(SegmentPatchFor(group->id, "s1"));
  Result<Segment> s2 = store().CreateSegment(SegmentPatchFor(group->id, "s2"));
  Result<Segment> s3 = store().CreateSegment(SegmentPatchFor(group->id, "s3"));
  ASSERT_TRUE(customer.ok());
  ASSERT_TRUE(s1.ok());
  ASSERT_TRUE(s2.ok());
  ASSERT_TRUE(s3.ok());

  Result<std::vector<std::int64_t>> unknown_customer = store().ChangeCustomerSegments(99, {}, {});
  EXPECT_EQ(unknown_customer.status().code(), Code::kNotFound);
  EXPECT_EQ(unknown_customer.status().message(), "Customer with ID 99 was not found");

  Result<std::vector<std::int64_t>> unknown =
      store().ChangeCustomerSegments(customer->id, {s1->id, 77, 76}, {77, 75});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), Code::kInvalid);
  EXPECT_EQ(unknown.status().message(), "unknown segment IDs: 77, 76, 75");
  EXPECT_TRUE(store().GetCustomer(customer->id, false)->segments.empty());

  Result<std::vector<std::int64_t>> changed =
      store().ChangeCustomerSegments(customer->id, {s3->id, s1->id, s2->id}, {s2->id});
  ASSERT_TRUE(changed.ok()) << changed.status().message();
  EXPECT_EQ(changed.value(), (std::vector<std::int64_t>{s1->id, s3->id}));
  EXPECT_EQ(store().GetCustomer(customer->id, false)->segments,
            (std::vector<std::int64_t>{s1->id, s3->id}));

  // Deleting a segment removes it from the customer and changes the date.
  RawConnection raw(db_url_);
  raw.Query("UPDATE customers SET modification_date = 1");
  ASSERT_TRUE(store().DeleteSegment(s1->id).ok());
  Result<Customer> after = store().GetCustomer(customer->id, false);
  EXPECT_EQ(after->segments, (std::vector<std::int64_t>{s3->id}));
  EXPECT_GT(after->modification_date, 1);

  // An unchanged set leaves the date alone.
  raw.Query("UPDATE customers SET modification_date = 1");
  ASSERT_TRUE(store().ChangeCustomerSegments(customer->id, {s3->id}, {}).ok());
  EXPECT_EQ(store().GetCustomer(customer->id, false)->modification_date, 1);
}

// ---- activities ----

TEST_F(PostgresStoreTest, ActivityRules) {
  Result<std::pair<Activity, bool>> orphan = store().CreateActivity(MakeActivity(7, "buy", 1));
  ASSERT_FALSE(orphan.ok());
  EXPECT_EQ(orphan.status().code(), Code::kInvalid);
  EXPECT_EQ(orphan.status().message(), "customer with ID 7 was not found");

  Result<Customer> customer = store().CreateCustomer(MakeCustomer());
  Activity input = MakeActivity(customer->id, "buy", 100);
  input.a_id = "ext-1";
  input.o_id = 5;
  Result<std::pair<Activity, bool>> created = store().CreateActivity(input);
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_TRUE(created->second);
  EXPECT_EQ(created->first.attributes_json, R"({"sku":"A-1","price":1.0})");

  // The same (customer, type, a_id) updates that activity.
  input.attributes_json = R"({"n":2})";
  input.activity_date = 200;
  Result<std::pair<Activity, bool>> again = store().CreateActivity(input);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_FALSE(again->second);
  EXPECT_EQ(again->first.id, created->first.id);
  EXPECT_EQ(again->first.creation_date, created->first.creation_date);
  Result<Activity> stored = store().GetActivity(created->first.id);
  EXPECT_EQ(stored->attributes_json, R"({"n":2})");
  EXPECT_EQ(stored->activity_date, 200);
  EXPECT_EQ(stored->o_id, 5);

  // Another type is another activity; moving it onto the first one's a_id clashes.
  input.type = "visit";
  Result<std::pair<Activity, bool>> visit = store().CreateActivity(input);
  ASSERT_TRUE(visit.ok());
  EXPECT_TRUE(visit->second);
  Result<Activity> moved = store().UpdateActivity(visit->first.id, [](Activity& a) {
    a.type = "buy";
    return Status::Ok();
  });
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.status().code(), Code::kConflict);
  EXPECT_EQ(moved.status().message(), "a_id \"ext-1\" with type \"buy\" is already used by activity " +
                                          std::to_string(created->first.id) + " of customer " +
                                          std::to_string(customer->id));
  Result<Activity> to_nobody = store().UpdateActivity(visit->first.id, [](Activity& a) {
    a.customer_id = 555;
    return Status::Ok();
  });
  EXPECT_EQ(to_nobody.status().message(), "customer with ID 555 was not found");

  ASSERT_TRUE(store().DeleteActivity(visit->first.id).ok());
  std::vector<Deletion> deleted = ListDeletions(store(), {"activities", std::nullopt});
  ASSERT_EQ(deleted.size(), 1u);
  EXPECT_EQ(deleted[0].type, "visit");
}

TEST_F(PostgresStoreTest, ListActivitiesOrderAndFilters) {
  Result<Customer> c1 = store().CreateCustomer(MakeCustomer());
  Result<Customer> c2 = store().CreateCustomer(MakeCustomer());
  ASSERT_TRUE(store().CreateActivity(MakeActivity(c1->id, "buy", 30)).ok());
  ASSERT_TRUE(store().CreateActivity(MakeActivity(c2->id, "visit", 10)).ok());
  ASSERT_TRUE(store().CreateActivity(MakeActivity(c1->id, "mail", 10)).ok());
  ASSERT_TRUE(store().CreateActivity(MakeActivity(c2->id, "buy", 20)).ok());

  ListInfo info;
  std::vector<Activity> all = ListActivities(store(), {}, &info);
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(info.total_rows, 4);
  EXPECT_EQ(all[0].id, 2);  // date 10, lower id first
  EXPECT_EQ(all[1].id, 3);
  EXPECT_EQ(all[2].id, 4);
  EXPECT_EQ(all[3].id, 1);

  ActivityQuery types;
  types.types = {"buy", "mail"};
  EXPECT_EQ(ListActivities(store(), types).size(), 3u);
  types.types = {"buy"};
  types.customer_id = c2->id;
  std::vector<Activity> one = ListActivities(store(), types, &info);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].id, 4);
  EXPECT_EQ(info.total_rows, 1);

  ActivityQuery since;
  since.modified_since = all[0].modification_date;  // inclusive
  EXPECT_EQ(ListActivities(store(), since).size(), 4u);
  ActivityQuery paged;
  paged.page = {2, 3};
  EXPECT_EQ(ListActivities(store(), paged, &info).size(), 1u);
  EXPECT_EQ(info.total_rows, 4);
}

// ---- deletions ----

TEST_F(PostgresStoreTest, ScanDeletionsDeliversEveryRowInChunks) {
  Result<Customer> customer = store().CreateCustomer(MakeCustomer());
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 7; ++i) {
    Result<std::pair<Activity, bool>> a = store().CreateActivity(MakeActivity(customer->id, "t", i));
    ASSERT_TRUE(a.ok());
    ids.push_back(a->first.id);
  }
  for (std::int64_t id : ids) ASSERT_TRUE(store().DeleteActivity(id).ok());

  DeletionCursor cursor;
  std::int64_t timestamp = -1;
  std::vector<std::int64_t> seen;
  DeletionQuery query{"activities", std::nullopt};
  for (int round = 0; round < 10; ++round) {
    std::int64_t before = timestamp;
    Result<std::int64_t> got = store().ScanDeletions(
        query, cursor, 3, timestamp, [&](const Deletion& d) { seen.push_back(d.id); });
    ASSERT_TRUE(got.ok()) << got.status().message();
    if (round > 0) EXPECT_EQ(timestamp, before);  // set on the first call only
    if (got.value() < 3) break;
  }
  EXPECT_EQ(seen, ids);
  EXPECT_GT(timestamp, 0);

  Result<std::int64_t> zero = store().ScanDeletions(query, cursor, 0, timestamp,
                                                    [](const Deletion&) {});
  EXPECT_EQ(zero.status().code(), Code::kInternal);

  ListInfo info;
  std::vector<Deletion> page = ListDeletions(store(), query, {2, 3}, &info);
  EXPECT_EQ(info.total_rows, 7);
  ASSERT_EQ(page.size(), 3u);
  EXPECT_EQ(page[0].id, ids[3]);
  DeletionQuery later{"activities", page[0].creation_date + 1000000};
  EXPECT_TRUE(ListDeletions(store(), later).empty());
}

// ---- segment groups and segments ----

TEST_F(PostgresStoreTest, SegmentGroupRules) {
  SegmentGroupPatch nameless;
  EXPECT_EQ(store().CreateSegmentGroup(nameless).status().message(), "name required");

  Result<SegmentGroup> group = store().CreateSegmentGroup(GroupPatch("g", "ref"));
  ASSERT_TRUE(group.ok()) << group.status().message();
  EXPECT_FALSE(group->calculated);
  EXPECT_FALSE(group->filter_sort_order.has_value());

  Result<SegmentGroup> same = store().CreateSegmentGroup(GroupPatch("h", "ref"));
  EXPECT_EQ(same.status().code(), Code::kConflict);
  EXPECT_EQ(same.status().message(),
            "duplicate segment group - group with reference 'ref' already exists");
  EXPECT_TRUE(store().CreateSegmentGroup(GroupPatch("h", "ref", true)).ok());
  EXPECT_TRUE(store().CreateSegmentGroup(GroupPatch("e", "")).ok());
  EXPECT_TRUE(store().CreateSegmentGroup(GroupPatch("e", "")).ok());

  // Changing the flag changes every segment of the group.
  Result<Segment> segment = store().CreateSegment(SegmentPatchFor(group->id, "s", "sref"));
  ASSERT_TRUE(segment.ok()) << segment.status().message();
  SegmentGroupPatch flag;
  flag.calculated = true;
  Result<SegmentGroup> clash = store().UpdateSegmentGroup(group->id, flag);
  EXPECT_EQ(clash.status().code(), Code::kConflict);  // "ref" is taken among calculated groups
  SegmentGroupPatch rename;
  rename.reference = std::optional<std::string>("other");
  rename.calculated = true;
  ASSERT_TRUE(store().UpdateSegmentGroup(group->id, rename).ok());
  EXPECT_TRUE(store().GetSegment(segment->id)->calculated);

  ListInfo info;
  std::vector<SegmentGroup> page;
  Result<ListInfo> listed =
      store().ListSegmentGroups({1, 2}, [&](const SegmentGroup& g) { page.push_back(g); });
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->total_rows, 4);
  EXPECT_EQ(page.size(), 2u);
}

TEST_F(PostgresStoreTest, SegmentRulesInOrder) {
  SegmentPatch no_group;
  no_group.name = "s";
  EXPECT_EQ(store().CreateSegment(no_group).status().message(), "group required");
  EXPECT_EQ(store().CreateSegment(SegmentPatchFor(99, "s")).status().message(), "group not found");
  Result<SegmentGroup> group = store().CreateSegmentGroup(GroupPatch("g"));
  EXPECT_EQ(store().CreateSegment(SegmentPatchFor(group->id, "")).status().message(),
            "name required");
  SegmentPatch wrong_flag = SegmentPatchFor(group->id, "s");
  wrong_flag.calculated = true;
  EXPECT_EQ(store().CreateSegment(wrong_flag).status().message(),
            "calculated is true, but segment group " + std::to_string(group->id) +
                " is not calculated; a segment must have the calculated flag of its group");

  ASSERT_TRUE(store().CreateSegment(SegmentPatchFor(group->id, "a", "r")).ok());
  Result<Segment> duplicate = store().CreateSegment(SegmentPatchFor(group->id, "b", "r"));
  EXPECT_EQ(duplicate.status().code(), Code::kConflict);
  EXPECT_EQ(duplicate.status().message(),
            "duplicate segment - segment with reference 'r' already exists in this group");

  // The same reference in another group is fine; moving it back clashes.
  Result<SegmentGroup> calculated = store().CreateSegmentGroup(GroupPatch("c", std::nullopt, true));
  Result<Segment> elsewhere = store().CreateSegment(SegmentPatchFor(calculated->id, "b", "r"));
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_TRUE(elsewhere->calculated);
  SegmentPatch move;
  move.group = group->id;
  Result<Segment> moved = store().UpdateSegment(elsewhere->id, move);
  EXPECT_EQ(moved.status().code(), Code::kConflict);

  SegmentQuery by_group;
  by_group.group = calculated->id;
  std::vector<Segment> rows;
  Result<ListInfo> listed =
      store().ListSegments(by_group, [&](const Segment& s) { rows.push_back(s); });
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->total_rows, 1);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].id, elsewhere->id);
}

TEST_F(PostgresStoreTest, DeleteSegmentGroupRemovesSegmentsAndTouchesCustomers) {
  Result<Customer> customer = store().CreateCustomer(MakeCustomer());
  Result<SegmentGroup> group = store().CreateSegmentGroup(GroupPatch("g"));
  Result<Segment> segment = store().CreateSegment(SegmentPatchFor(group->id, "s"));
  ASSERT_TRUE(store().ChangeCustomerSegments(customer->id, {segment->id}, {}).ok());
  RawConnection raw(db_url_);
  raw.Query("UPDATE customers SET modification_date = 1");

  ASSERT_TRUE(store().DeleteSegmentGroup(group->id).ok());
  EXPECT_EQ(store().GetSegment(segment->id).status().code(), Code::kNotFound);
  Result<Customer> after = store().GetCustomer(customer->id, false);
  EXPECT_TRUE(after->segments.empty());
  EXPECT_GT(after->modification_date, 1);
}

// ---- API keys ----

TEST_F(PostgresStoreTest, ApiKeysCreateListFindRevoke) {
  Result<ApiKey> key = store().CreateApiKey("shop", "hash-1", true);
  ASSERT_TRUE(key.ok()) << key.status().message();
  EXPECT_TRUE(key->read_only);
  Result<ApiKey> same_name = store().CreateApiKey("shop", "hash-2", false);
  EXPECT_EQ(same_name.status().code(), Code::kConflict);
  EXPECT_EQ(same_name.status().message(),
            "API key \"shop\" already exists; revoke it first or choose another name");
  EXPECT_EQ(store().CreateApiKey("other", "hash-1", false).status().message(),
            "an API key with the same hash already exists");

  Result<std::optional<ApiKey>> found = store().FindApiKey("hash-1");
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(found.value()->name, "shop");
  EXPECT_TRUE(found.value()->last_used.has_value());
  EXPECT_FALSE(store().FindApiKey("nope")->has_value());
  EXPECT_EQ(store().ListApiKeys()->size(), 1u);

  EXPECT_TRUE(store().RevokeApiKey("shop").ok());
  EXPECT_FALSE(store().FindApiKey("hash-1")->has_value());
  EXPECT_EQ(store().RevokeApiKey("shop").message(), "API key \"shop\" was not found");
}

// ---- several connections ----

// A write transaction that is still open when a read computes its
// timestamp: the write's rows must carry a date after that timestamp, so
// that a client syncing from it still receives them.
TEST_F(PostgresStoreTest, SyncTimestampCoversOpenWriteTransaction) {
  Result<Customer> customer = store().CreateCustomer(MakeCustomer());
  ASSERT_TRUE(customer.ok());

  std::promise<void> writer_inside;
  std::promise<void> release_writer;
  std::shared_future<void> released = release_writer.get_future().share();
  std::future<Result<Customer>> writer = std::async(std::launch::async, [&] {
    bool signalled = false;
    return store().UpdateCustomer(customer->id, [&](Customer& c) {
      c.city = "Written";
      if (!signalled) {
        signalled = true;
        writer_inside.set_value();
      }
      released.wait();  // the transaction stays open until the test lets go
      return Status::Ok();
    });
  });
  writer_inside.get_future().wait();

  // Let the database clock pass the writer's start, so that "now - 1" alone
  // would be too late a timestamp.
  RawConnection raw(db_url_);
  std::int64_t start = raw.QueryInt("SELECT floor(extract(epoch FROM clock_timestamp()))");
  for (int i = 0; i < 60; ++i) {
    if (raw.QueryInt("SELECT floor(extract(epoch FROM clock_timestamp()))") > start + 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  ListInfo info;
  std::vector<Customer> seen = ListCustomers(store(), {}, &info);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_FALSE(seen[0].city.has_value());  // the write is not committed yet

  release_writer.set_value();
  Result<Customer> written = writer.get();
  ASSERT_TRUE(written.ok()) << written.status().message();
  EXPECT_GT(written->modification_date, info.timestamp);

  CustomerQuery since;
  since.modified_after = info.timestamp;
  std::vector<Customer> delta = ListCustomers(store(), since);
  ASSERT_EQ(delta.size(), 1u);
  EXPECT_EQ(delta[0].city, "Written");
}

TEST_F(PostgresStoreTest, ConcurrentExternalIdUpsertsMakeOneRow) {
  Result<Customer> customer = store().CreateCustomer(MakeCustomer());
  ASSERT_TRUE(customer.ok());
  // A second store is a second process's connection pool.
  Result<std::unique_ptr<Store>> other = OpenPostgresStore(db_url_, StoreOptions{});
  ASSERT_TRUE(other.ok()) << other.status().message();

  constexpr int kRounds = 20;
  std::atomic<int> created{0};
  auto produce = [&](Store* target) {
    for (int i = 0; i < kRounds; ++i) {
      Activity activity = MakeActivity(customer->id, "order", i);
      activity.a_id = "order-" + std::to_string(i);
      Result<std::pair<Activity, bool>> stored = target->CreateActivity(activity);
      EXPECT_TRUE(stored.ok()) << stored.status().message();
      if (stored.ok() && stored->second) ++created;
    }
  };
  std::thread first(produce, &store());
  std::thread second(produce, other.value().get());
  first.join();
  second.join();

  EXPECT_EQ(created.load(), kRounds);
  RawConnection raw(db_url_);
  EXPECT_EQ(raw.QueryInt("SELECT count(*) FROM activities"), kRounds);
}

TEST_F(PostgresStoreTest, ConcurrentUniqueValuesConflictOnce) {
  Open(ExtraFieldOptions());
  Result<std::unique_ptr<Store>> other = OpenPostgresStore(db_url_, ExtraFieldOptions());
  ASSERT_TRUE(other.ok()) << other.status().message();
  Result<SegmentGroup> group = store().CreateSegmentGroup(GroupPatch("g"));
  ASSERT_TRUE(group.ok());

  constexpr int kRounds = 15;
  std::atomic<int> customers_ok{0};
  std::atomic<int> segments_ok{0};
  auto create = [&](Store* target) {
    for (int i = 0; i < kRounds; ++i) {
      Customer customer = MakeCustomer();
      customer.extra = {"\"n" + std::to_string(i) + "\"", std::nullopt};
      Result<Customer> stored = target->CreateCustomer(customer);
      if (stored.ok()) {
        ++customers_ok;
      } else {
        EXPECT_EQ(stored.status().code(), Code::kConflict) << stored.status().message();
      }
      Result<Segment> segment =
          target->CreateSegment(SegmentPatchFor(group->id, "s", "ref-" + std::to_string(i)));
      if (segment.ok()) {
        ++segments_ok;
      } else {
        EXPECT_EQ(segment.status().code(), Code::kConflict) << segment.status().message();
      }
    }
  };
  std::thread first(create, &store());
  std::thread second(create, other.value().get());
  first.join();
  second.join();

  EXPECT_EQ(customers_ok.load(), kRounds);
  EXPECT_EQ(segments_ok.load(), kRounds);
  RawConnection raw(db_url_);
  EXPECT_EQ(raw.QueryInt("SELECT count(*) FROM customers"), kRounds);
  EXPECT_EQ(raw.QueryInt("SELECT count(*) FROM segments"), kRounds);
}

// ---- lost connections ----

TEST_F(PostgresStoreTest, ReconnectsAfterBackendTerminated) {
  Result<Customer> customer = store().CreateCustomer(MakeCustomer());
  ASSERT_TRUE(customer.ok());

  RawConnection raw(db_url_);
  std::int64_t killed = raw.QueryInt(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
      " WHERE datname = current_database() AND pid <> pg_backend_pid()");
  EXPECT_GE(killed, 1);

  // The pooled connection is dead; the store notices and opens a new one.
  Result<Customer> read = store().GetCustomer(customer->id, false);
  EXPECT_TRUE(read.ok()) << read.status().message();
  Result<Customer> written = store().UpdateCustomer(customer->id, [](Customer& c) {
    c.city = "Again";
    return Status::Ok();
  });
  EXPECT_TRUE(written.ok()) << written.status().message();
  EXPECT_TRUE(store().Ping().ok());
}

TEST_F(PostgresStoreTest, ReconnectsEveryPooledConnectionAfterBackendsTerminated) {
  Result<Customer> customer = store().CreateCustomer(MakeCustomer());
  ASSERT_TRUE(customer.ok());

  // Concurrent reads leave several connections idle in the pool.
  std::vector<std::thread> readers;
  for (int t = 0; t < 8; ++t) {
    readers.emplace_back([&] {
      for (int i = 0; i < 20; ++i) EXPECT_TRUE(store().GetCustomer(customer->id, false).ok());
    });
  }
  for (std::thread& reader : readers) reader.join();

  RawConnection raw(db_url_);
  std::int64_t killed = raw.QueryInt(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
      " WHERE datname = current_database() AND pid <> pg_backend_pid()");
  EXPECT_GE(killed, 2);

  // Every pooled connection is dead now; the first request that notices it
  // replaces them, and no request fails.
  for (int i = 0; i < 40; ++i) {
    if (i % 2 == 0) {
      Result<Customer> read = store().GetCustomer(customer->id, false);
      EXPECT_TRUE(read.ok()) << i << ": " << read.status().message();
    } else {
      Result<Customer> written = store().UpdateCustomer(customer->id, [i](Customer& c) {
        c.city = "City " + std::to_string(i);
        return Status::Ok();
      });
      EXPECT_TRUE(written.ok()) << i << ": " << written.status().message();
    }
  }
}

TEST_F(PostgresStoreTest, UnreachableDatabaseIsUnavailable) {
  // A database of its own, dropped under the open store.
  RawConnection admin(base_url_);
  std::string name = db_name_ + "_gone";
  admin.Query("DROP DATABASE IF EXISTS " + name);
  admin.Query("CREATE DATABASE " + name);
  Result<std::unique_ptr<Store>> doomed =
      OpenPostgresStore(WithDatabase(base_url_, name), StoreOptions{});
  ASSERT_TRUE(doomed.ok()) << doomed.status().message();
  ASSERT_TRUE(doomed.value()->Ping().ok());
  admin.Query("DROP DATABASE " + name + " WITH (FORCE)");

  Status ping = doomed.value()->Ping();
  EXPECT_EQ(ping.code(), Code::kUnavailable) << ping.message();
  EXPECT_EQ(ping.message().rfind("database unavailable: ", 0), 0u) << ping.message();
  Result<Customer> read = doomed.value()->GetCustomer(1, false);
  EXPECT_EQ(read.status().code(), Code::kUnavailable) << read.status().message();
  Result<Customer> write = doomed.value()->CreateCustomer(MakeCustomer());
  EXPECT_EQ(write.status().code(), Code::kUnavailable) << write.status().message();
}


// ---- bulk import ----

// Everything an import leaves behind that does not depend on the clock: the
// counts, the rejections, the batch as written back and the tables, with
// each date shown as "old" (1, set before the import) or "new".
struct ImportOutcome {
  std::string counts;
  std::vector<std::string> rejected;
  std::vector<std::string> customers;
  std::vector<std::string> activities;
  std::string tables;
};

std::string Describe(const ImportCounts& counts) {
  return std::to_string(counts.customers_created) + " customers, " +
         std::to_string(counts.activities_created) + " activities created, " +
         std::to_string(counts.activities_updated) + " updated, " +
         std::to_string(counts.assignments_applied) + " assignments";
}

StoreOptions ImportOptions() {
  StoreOptions options = ExtraFieldOptions();
  options.customer.duplicate_check = {"email", "loyaltyTier"};
  return options;
}

// Stored rows the batch of ImportMixedBatch() clashes with: customer 1
// (number 100, s1@example.com, gold) with segment 1 and an order with a_id
// "x", customer 2 with segment 2, segments 1 to 3. Every date is then set to
// 1, so that the import's writes show.
void StoreImportFixture(Store& store, const std::string& db_url) {
  Customer first = MakeCustomer("s1@example.com");
  first.extra = {"\"100\"", "\"gold\""};
  Result<Customer> one = store.CreateCustomer(first);
  Result<Customer> two = store.CreateCustomer(MakeCustomer());
  Result<SegmentGroup> group = store.CreateSegmentGroup(GroupPatch("g"));
  ASSERT_TRUE(one.ok());
  ASSERT_TRUE(two.ok());
  ASSERT_TRUE(group.ok());
  for (const char* name : {"s1", "s2", "s3"}) {
    ASSERT_TRUE(store.CreateSegment(SegmentPatchFor(group->id, name)).ok());
  }
  ASSERT_TRUE(store.ChangeCustomerSegments(1, {1}, {}).ok());
  ASSERT_TRUE(store.ChangeCustomerSegments(2, {2}, {}).ok());
  Activity order = MakeActivity(1, "order", 10);
  order.a_id = "x";
  ASSERT_TRUE(store.CreateActivity(order).ok());

  RawConnection raw(db_url);
  raw.Query("UPDATE customers SET modification_date = 1, creation_date = 1");
  raw.Query("UPDATE activities SET modification_date = 1, creation_date = 1");
}

// Good rows mixed with every kind of rejected one. Accepted customers get
// ids 3, 4 and 5 (rows 0, 7 and 8), which the activities and assignments
// use.
ImportBatch ImportMixedBatch() {
  ImportBatch batch;
  auto customer = [&](std::optional<std::string> number, std::optional<std::string> email,
                      std::optional<std::string> tier) {
    Customer c = MakeCustomer(std::move(email));
    c.extra = {std::move(number), std::move(tier)};
    batch.customers.push_back(c);
  };
  customer("\"200\"", "a@example.com", "\"gold\"");       // 0: id 3
  customer("\"100\"", "b@example.com", std::nullopt);     // 1: number of stored customer 1
  customer("\"200\"", "c@example.com", std::nullopt);     // 2: number of batch row 0
  customer(std::nullopt, "A@EXAMPLE.com", "\"Gold\"");    // 3: duplicate of row 0
  customer(std::nullopt, "S1@example.com", "\"gold\"");   // 4: duplicate of customer 1
  customer("\"100\"", "s1@example.COM", "\"GOLD\"");      // 5: both clashes with customer 1
  customer(std::nullopt, "nul@example.com", std::nullopt);
  batch.customers.back().firstname = std::string("A\0B", 3);  // 6: not storable
  customer(std::nullopt, "a@example.com", std::nullopt);  // 7: id 4, check does not apply
  customer("\"300\"", std::nullopt, "\"gold\"");           // 8: id 5
  batch.customers.back().id_encoded = "given-token";

  auto activity = [&](std::int64_t customer_id, std::string type,
                      std::optional<std::string> a_id, std::int64_t date) {
    Activity a = MakeActivity(customer_id, std::move(type), date);
    a.a_id = std::move(a_id);
    batch.activities.push_back(a);
  };
  activity(1, "order", "x", 20);             // 0: updates the stored order
  activity(3, "order", "y", 30);             // 1: new
  activity(3, "order", "y", 31);             // 2: updates row 1's activity
  activity(99, "order", std::nullopt, 40);   // 3: unknown customer
  activity(4, "login", std::nullopt, 50);    // 4: new
  activity(4, std::string("lo\0gin", 6), std::nullopt, 60);  // 5: not storable
  activity(1, "login", "x", 70);             // 6: new (another type)
  activity(2, "order", "x", 80);             // 7: new (another customer)

  batch.assignments = {
      {1, {2}, {1}},             // 0: changes customer 1
      {99, {1}, {}},             // 1: unknown customer
      {3, {1, 77, 78, 77}, {}},  // 2: unknown segments
      {3, {1, 2}, {}},           // 3
      {3, {}, {2}},              // 4
      {2, {2}, {3}},             // 5: no change: customer 2 keeps date 1
      {5, {1}, {1}},             // 6: no change
  };
  return batch;
}

ImportOutcome Outcome(const ImportCounts& counts, const ImportBatch& batch,
                      const std::string& db_url) {
  ImportOutcome outcome;
  outcome.counts = Describe(counts);
  for (const ImportRejection& rejection : counts.rejected) {
    std::string text = std::to_string(static_cast<int>(rejection.kind)) + "/" +
                       std::to_string(rejection.index) + "/" +
                       std::to_string(rejection.status.http_status());
    for (const std::string& message : rejection.status.messages()) text += "/" + message;
    outcome.rejected.push_back(text);
  }
  for (const Customer& c : batch.customers) {
    outcome.customers.push_back(std::to_string(c.id) + " " + c.email.value_or("-") + " " +
                                (c.id == 0 ? "" : c.id_encoded.empty() ? "no-token" : "token") +
                                (c.id_encoded == "given-token" ? " given" : "") + " " +
                                std::to_string(c.extra.size()));
  }
  // Activity ids are compared by rank, because CreateActivity's upsert uses up
  // a sequence value even when it updates. So the row-by-row import leaves id
  // gaps that the bulk import does not, and only the id order is in the contract.
  std::set<std::int64_t> activity_ids;
  for (const Activity& a : batch.activities) activity_ids.insert(a.id);
  auto rank = [&](std::int64_t id) {
    return id == 0 ? 0 : std::distance(activity_ids.begin(), activity_ids.find(id)) +
                             (activity_ids.count(0) ? 0 : 1);
  };
  for (const Activity& a : batch.activities) {
    std::string age = "new";
    if (a.creation_date == 1) age = "old";
    if (a.creation_date == 0) age = "-";
    outcome.activities.push_back(std::to_string(rank(a.id)) + " " + std::to_string(a.customer_id) +
                                 " " + std::to_string(a.activity_date) + " " + age);
  }
  RawConnection raw(db_url);
  auto date = [](const char* column) {
    return std::string("CASE WHEN ") + column + " = 1 THEN 'old' ELSE 'new' END";
  };
  outcome.tables =
      raw.Query("SELECT string_agg(id || ' ' || coalesce(email, '-') || ' ' || extra || ' ' || " +
                date("modification_date") + " || ' ' || " + date("creation_date") +
                " || ' ' || length(id_encoded), '; ' ORDER BY id) FROM customers") +
      "\n" +
      raw.Query("SELECT string_agg(field || '=' || value || '@' || customer_id, '; '"
                " ORDER BY field, value) FROM customer_unique") +
      "\n" +
      raw.Query("SELECT string_agg(customer_id || ':' || segment_id, '; '"
                " ORDER BY customer_id, segment_id) FROM customer_segments") +
      "\n" +
      raw.Query("SELECT string_agg(dense_rank || ' ' || customer_id || ' ' || type || ' ' ||"
                " coalesce(a_id, '-') || ' ' || activity_date || ' ' || " +
                date("modification_date") + " || ' ' || " + date("creation_date") +
                ", '; ' ORDER BY id) FROM (SELECT *, dense_rank() OVER (ORDER BY id)"
                " FROM activities) AS ranked") +
      "\n" + raw.Query("SELECT max(id) FROM customers");
  return outcome;
}

// PgStore::Import writes the batch with COPY and a fixed number of
// statements; the default Store::Import calls the single-record methods row
// by row. On the same stored rows and the same batch, both must give the
// same counts, rejections (position, status and messages), ids, written
// back rows and tables.
TEST_F(PostgresStoreTest, BulkImportMatchesRowByRowImport) {
  auto run = [&](bool bulk) {
    RawConnection raw(db_url_);
    raw.Query("DROP SCHEMA public CASCADE");
    raw.Query("CREATE SCHEMA public");
    Open(ImportOptions());
    StoreImportFixture(store(), db_url_);
    ImportBatch batch = ImportMixedBatch();
    Result<ImportCounts> counts = bulk ? store().Import(batch) : store().Store::Import(batch);
    EXPECT_TRUE(counts.ok()) << counts.status().message();
    return Outcome(counts.value(), batch, db_url_);
  };
  ImportOutcome bulk = run(true);
  ImportOutcome single = run(false);

  EXPECT_EQ(bulk.counts, "3 customers, 4 activities created, 2 updated, 5 assignments");
  EXPECT_EQ(bulk.counts, single.counts);
  EXPECT_EQ(bulk.rejected, single.rejected);
  EXPECT_EQ(bulk.customers, single.customers);
  EXPECT_EQ(bulk.activities, single.activities);
  EXPECT_EQ(bulk.tables, single.tables);

  // Spelled out once, so that a fault shared by both paths shows too.
  EXPECT_EQ(bulk.rejected,
            (std::vector<std::string>{
                "0/1/409/customerNumber \"100\" is already used by customer 1",
                "0/2/409/customerNumber \"200\" is already used by customer 3",
                "0/3/409/Duplicate customer found: customer 3 has the same email and "
                "loyaltyTier",
                "0/4/409/Duplicate customer found: customer 1 has the same email and "
                "loyaltyTier",
                "0/5/409/customerNumber \"100\" is already used by customer 1/Duplicate customer "
                "found: customer 1 has the same email and loyaltyTier",
                "0/6/400/firstname: invalid value, contains the character U+0000, which the "
                "PostgreSQL database cannot store",
                "1/3/400/customer with ID 99 was not found",
                "1/5/400/type: invalid value, contains the character U+0000, which the PostgreSQL "
                "database cannot store",
                "2/1/404/Customer with ID 99 was not found",
                "2/2/400/unknown segment IDs: 77, 78"}));
  EXPECT_EQ(bulk.customers[0], "3 a@example.com token 2");
  EXPECT_EQ(bulk.customers[1], "0 b@example.com  2");
  EXPECT_EQ(bulk.customers[8], "5 - token given 2");
  EXPECT_EQ(bulk.activities,
            (std::vector<std::string>{"1 1 20 old", "2 3 30 new", "2 3 31 new", "0 99 40 -",
                                      "3 4 50 new", "0 4 60 -", "4 1 70 new", "5 2 80 new"}));
  EXPECT_NE(bulk.tables.find("\n1:2; 2:2; 3:1\n"), std::string::npos) << bulk.tables;
  EXPECT_NE(bulk.tables.find("1 s1@example.com {\"customerNumber\":\"100\",\"loyaltyTier\":"
                             "\"gold\"} new old 32; 2 - {} old old 32"),
            std::string::npos)
      << bulk.tables;
}

// A batch far larger than any pipeline, with a bad row every so often:
// every good row is written, in order, and ids follow the batch.
TEST_F(PostgresStoreTest, BulkImportKeepsOrderSkipsBadRows) {
  Open(ExtraFieldOptions());
  ImportBatch batch;
  constexpr int kCustomers = 3000;
  for (int i = 0; i < kCustomers; ++i) {
    Customer c = MakeCustomer("c" + std::to_string(i) + "@example.com");
    // Every 100th row repeats the number of the row before it.
    int number = i % 100 == 99 ? i - 1 : i;
    c.extra = {"\"" + std::to_string(number) + "\"", std::nullopt};
    c.street = "Tab\there\nnew line \\ backslash";
    batch.customers.push_back(c);
  }
  for (int i = 0; i < 2 * kCustomers; ++i) {
    // Customers above 2970 do not exist; the second half repeats the first
    // half's customers and a_ids, so it updates what the first half created.
    Activity a = MakeActivity(i % kCustomers + 1, "order", i);
    a.a_id = "o" + std::to_string(i % kCustomers);
    batch.activities.push_back(a);
  }
  Result<ImportCounts> counts = store().Import(batch);
  ASSERT_TRUE(counts.ok()) << counts.status().message();
  EXPECT_EQ(counts->customers_created, kCustomers - kCustomers / 100);
  EXPECT_EQ(counts->rejected.size(), 30u + 2 * 30);
  EXPECT_EQ(batch.customers[98].id, 99);
  EXPECT_EQ(batch.customers[99].id, 0);
  EXPECT_EQ(batch.customers[100].id, 100);
  EXPECT_EQ(batch.customers[kCustomers - 2].id, kCustomers - kCustomers / 100);

  Result<Customer> loaded = store().GetCustomer(100, false);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->street, "Tab\there\nnew line \\ backslash");
  EXPECT_EQ(loaded->email, "c100@example.com");
  EXPECT_EQ(counts->activities_created, 2970);
  EXPECT_EQ(counts->activities_updated, 2970);
  EXPECT_EQ(batch.activities[5].id, batch.activities[kCustomers + 5].id);
  RawConnection raw(db_url_);
  EXPECT_EQ(raw.QueryInt("SELECT count(*) FROM activities"), 2970);
  EXPECT_EQ(raw.QueryInt("SELECT sum(activity_date) FROM activities"),
            2970LL * kCustomers + 2970LL * 2969 / 2);
}

}  // namespace
}  // namespace cmfd

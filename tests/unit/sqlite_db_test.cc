#include "storage/sqlite/sqlite_db.h"

#include <gtest/gtest.h>

#include "sqlite_test_support.h"

namespace cmfd {
namespace {

class SqliteDbTest : public testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<SqliteDb>> opened = SqliteDb::Open(dir_.File("t.db"), {});
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    db_ = std::move(opened.value());
    ASSERT_TRUE(db_->Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);"
                          "INSERT INTO t (name) VALUES ('a'), ('b'), (NULL);")
                    .ok());
  }

  TempDirectory dir_;
  std::unique_ptr<SqliteDb> db_;
};

TEST_F(SqliteDbTest, StepReadsRowsAndNulls) {
  Result<SqliteStatement> stmt = db_->Prepare("SELECT id, name FROM t ORDER BY id");
  ASSERT_TRUE(stmt.ok());
  std::vector<std::optional<std::string>> names;
  while (true) {
    Result<bool> row = stmt->Step();
    ASSERT_TRUE(row.ok());
    if (!row.value()) break;
    names.push_back(stmt->ColumnOptionalText(1));
  }
  EXPECT_EQ(names, (std::vector<std::optional<std::string>>{"a", "b", std::nullopt}));
}

TEST_F(SqliteDbTest, ReleasedStatementStartsOver) {
  const char* sql = "SELECT name FROM t WHERE id >= ?1 ORDER BY id";
  {
    Result<SqliteStatement> stmt = db_->Prepare(sql);
    ASSERT_TRUE(stmt.ok());
    stmt->BindInt(1, 2);
    ASSERT_TRUE(stmt->Step().value());
    EXPECT_EQ(stmt->ColumnText(0), "b");
  }
  Result<SqliteStatement> again = db_->Prepare(sql);
  ASSERT_TRUE(again.ok());
  again->BindInt(1, 1);
  ASSERT_TRUE(again->Step().value());
  EXPECT_EQ(again->ColumnText(0), "a");
}

TEST_F(SqliteDbTest, NestedUseOfSameSqlGetsSeparateStatements) {
  const char* sql = "SELECT name FROM t WHERE id = ?1";
  Result<SqliteStatement> outer = db_->Prepare(sql);
  Result<SqliteStatement> inner = db_->Prepare(sql);
  ASSERT_TRUE(outer.ok());
  ASSERT_TRUE(inner.ok());
  outer->BindInt(1, 1);
  inner->BindInt(1, 2);
  ASSERT_TRUE(outer->Step().value());
  ASSERT_TRUE(inner->Step().value());
  EXPECT_EQ(outer->ColumnText(0), "a");
  EXPECT_EQ(inner->ColumnText(0), "b");
}

TEST_F(SqliteDbTest, ErrorsBecomeStatuses) {
  Result<SqliteStatement> bad = db_->Prepare("SELECT nope FROM t");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInternal);
  EXPECT_NE(bad.status().message().find("no such column"), std::string::npos);

  Result<SqliteStatement> insert = db_->Prepare("INSERT INTO t (id, name) VALUES (?1, 'x')");
  ASSERT_TRUE(insert.ok());
  insert->BindInt(1, 1);
  Status duplicate = insert->Run();
  EXPECT_EQ(duplicate.code(), Code::kInternal);

  Result<SqliteStatement> range = db_->Prepare("SELECT ?1");
  ASSERT_TRUE(range.ok());
  range->BindInt(5, 1);  // no such parameter
  EXPECT_FALSE(range->Step().ok());
}

TEST(SqliteStatusTest, BusyIsUnavailable) {
  EXPECT_EQ(SqliteStatus(SQLITE_BUSY, "step", "database is locked").code(), Code::kUnavailable);
  EXPECT_EQ(SqliteStatus(SQLITE_IOERR_WRITE, "step", "").code(), Code::kUnavailable);
  EXPECT_EQ(SqliteStatus(SQLITE_CORRUPT, "step", "").code(), Code::kInternal);
}

}  // namespace
}  // namespace cmfd

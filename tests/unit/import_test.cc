// Tests of the NDJSON import: line reading, line parsing and the importer
// with bad-line reporting, against a real SQLite store.
#include "import/ndjson_import.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "import/ndjson_reader.h"
#include "sqlite_test_support.h"

namespace cmfd {
namespace {

// Writes `text` to `path` byte for byte.
void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream file(path, std::ios::binary);
  file << text;
}

// Every line the reader returns, as (number, text or "<too long N>").
std::vector<std::pair<std::int64_t, std::string>> ReadAll(const std::string& path,
                                                          std::uint64_t max_line_bytes) {
  Result<std::unique_ptr<NdjsonReader>> reader = NdjsonReader::Open(path, max_line_bytes);
  EXPECT_TRUE(reader.ok()) << reader.status().message();
  std::vector<std::pair<std::int64_t, std::string>> lines;
  if (!reader.ok()) return lines;
  NdjsonLine line;
  while (true) {
    Result<bool> more = reader.value()->Next(line);
    EXPECT_TRUE(more.ok()) << more.status().message();
    if (!more.ok() || !more.value()) break;
    lines.emplace_back(line.number, line.too_long
                                        ? "<too long " + std::to_string(line.length) + ">"
                                        : std::string(line.text));
  }
  return lines;
}

using Lines = std::vector<std::pair<std::int64_t, std::string>>;

class NdjsonReaderTest : public testing::Test {
 protected:
  std::string path() const { return dir_.File("input.ndjson"); }
  TempDirectory dir_;
};

TEST_F(NdjsonReaderTest, NumbersLinesAndSkipsBlankOnes) {
  WriteFile(path(), "{\"a\":1}\n\n   \n{\"b\":2}\n\t\n{\"c\":3}\n");
  EXPECT_EQ(ReadAll(path(), 1000), (Lines{{1, "{\"a\":1}"}, {4, "{\"b\":2}"}, {6, "{\"c\":3}"}}));
}

TEST_F(NdjsonReaderTest, LastLineWithoutNewline) {
  WriteFile(path(), "{\"a\":1}\n{\"b\":2}");
  EXPECT_EQ(ReadAll(path(), 1000), (Lines{{1, "{\"a\":1}"}, {2, "{\"b\":2}"}}));
}

TEST_F(NdjsonReaderTest, DropsCarriageReturnAndByteOrderMark) {
  WriteFile(path(), "\xEF\xBB\xBF{\"a\":1}\r\n{\"b\":2}\r\n");
  EXPECT_EQ(ReadAll(path(), 1000), (Lines{{1, "{\"a\":1}"}, {2, "{\"b\":2}"}}));
}

TEST_F(NdjsonReaderTest, EmptyFileHasNoLines) {
  WriteFile(path(), "");
  EXPECT_TRUE(ReadAll(path(), 1000).empty());
}

TEST_F(NdjsonReaderTest, LongLineIsSkippedAndReadingGoesOn) {
  // 3 MiB, more than one read block, so the skip spans several reads.
  const std::string huge(3 << 20, 'x');
  WriteFile(path(), "{\"a\":1}\n" + huge + "\r\n{\"b\":2}\n" + std::string(20, 'y'));
  EXPECT_EQ(ReadAll(path(), 10), (Lines{{1, "{\"a\":1}"},
                                        {2, "<too long " + std::to_string(huge.size()) + ">"},
                                        {3, "{\"b\":2}"},
                                        {4, "<too long 20>"}}));
}

TEST_F(NdjsonReaderTest, LineLongerThanBlockWithinLimit) {
  const std::string big = "\"" + std::string((2 << 20) + 17, 'z') + "\"";
  WriteFile(path(), big + "\n{}\n");
  Lines lines = ReadAll(path(), 4 << 20);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].second, big);
  EXPECT_EQ(lines[1], (std::pair<std::int64_t, std::string>{2, "{}"}));
}

TEST_F(NdjsonReaderTest, LineOfExactlyTheLimitIsKept) {
  WriteFile(path(), "12345\r\n123456\n");
  EXPECT_EQ(ReadAll(path(), 5), (Lines{{1, "12345"}, {2, "<too long 6>"}}));
}

TEST_F(NdjsonReaderTest, MissingFileIsAnError) {
  Result<std::unique_ptr<NdjsonReader>> reader =
      NdjsonReader::Open(dir_.File("missing.ndjson"), 1000);
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.status().message().find("missing.ndjson"), std::string::npos)
      << reader.status().message();
}

TEST(ImportLineTest, CustomerLineBecomesNewCustomer) {
  CustomerSchema schema;
  Result<Customer> customer =
      ParseCustomerLine(R"({"firstname":"Anna","email":"anna@example.com","countryCode":"gb"})",
                        schema);
  ASSERT_TRUE(customer.ok()) << customer.status().message();
  EXPECT_EQ(customer->firstname, "Anna");
  EXPECT_EQ(customer->country_code, "GB");
  EXPECT_TRUE(customer->active);
}

TEST(ImportLineTest, CustomerLineWithBadFieldsNamesEach) {
  CustomerSchema schema;
  Result<Customer> customer =
      ParseCustomerLine(R"({"gender":"Male","email":"not an address"})", schema);
  ASSERT_FALSE(customer.ok());
  EXPECT_EQ(customer.status().code(), Code::kInvalid);
  ASSERT_EQ(customer.status().messages().size(), 2u);
  EXPECT_NE(customer.status().messages()[0].find("gender"), std::string::npos);
  EXPECT_NE(customer.status().messages()[1].find("email"), std::string::npos);
}

TEST(ImportLineTest, CustomerLineChecksRequiredFields) {
  CustomerSchema schema;
  schema.required = {{"email"}};
  Result<Customer> customer = ParseCustomerLine(R"({"firstname":"Anna"})", schema);
  ASSERT_FALSE(customer.ok());
  EXPECT_NE(customer.status().message().find("required"), std::string::npos)
      << customer.status().message();
}

TEST(ImportLineTest, ActivityLineNeedsCustomerAndType) {
  Result<Activity> activity = ParseActivityLine(
      R"({"customerId":"7","type":"order","activityDate":"2011-12-09","attributes":{"n":1.0}})");
  ASSERT_TRUE(activity.ok()) << activity.status().message();
  EXPECT_EQ(activity->customer_id, 7);
  EXPECT_EQ(activity->activity_date, 1323388800);
  EXPECT_EQ(activity->attributes_json, R"({"n":1.0})");
  EXPECT_FALSE(activity->md5.empty());

  Result<Activity> missing = ParseActivityLine(R"({"activityDate":1})");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kInvalid);
}

TEST(ImportLineTest, AssignmentLineKeepsBothLists) {
  Result<SegmentAssignment> assignment =
      ParseAssignmentLine(R"({"customerId":5,"addSegments":[1,"2"],"removeSegments":[3]})");
  ASSERT_TRUE(assignment.ok()) << assignment.status().message();
  EXPECT_EQ(assignment->customer_id, 5);
  EXPECT_EQ(assignment->add, (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(assignment->remove, (std::vector<std::int64_t>{3}));

  EXPECT_FALSE(ParseAssignmentLine(R"({"addSegments":[1]})").ok());
}

// The importer against a real store, with every bad line collected.
class NdjsonImporterTest : public SqliteStoreFixture {
 protected:
  struct BadLine {
    std::int64_t line;
    Code code;
    std::string message;
  };

  Result<ImportFileReport> Import(const std::string& text, ImportKind kind,
                                  std::size_t batch_size = 10000) {
    const std::string file = dir_.File("input.ndjson");
    WriteFile(file, text);
    ImportOptions options;
    options.batch_size = batch_size;
    options.max_line_bytes = 200;
    NdjsonImporter importer(store(), schema_, options,
                            [this](const std::string&, std::int64_t line, const Status& status) {
                              bad_.push_back({line, status.code(), status.message()});
                            });
    return importer.ImportFile(file, kind);
  }

  CustomerSchema schema_;
  std::vector<BadLine> bad_;
};

TEST_F(NdjsonImporterTest, CustomersGetIdsInFileOrder) {
  Result<ImportFileReport> report = Import(
      "{\"firstname\":\"A\"}\n{\"firstname\":\"B\"}\n{\"firstname\":\"C\"}\n",
      ImportKind::kCustomers, /*batch_size=*/2);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->lines, 3);
  EXPECT_EQ(report->created, 3);
  EXPECT_EQ(report->rejected, 0);
  EXPECT_TRUE(bad_.empty());
  for (int id = 1; id <= 3; ++id) {
    Result<Customer> customer = store().GetCustomer(id, false);
    ASSERT_TRUE(customer.ok()) << customer.status().message();
    EXPECT_EQ(customer->firstname, std::string(1, static_cast<char>('A' + id - 1)));
  }
}

TEST_F(NdjsonImporterTest, BadLinesAreReportedAndSkipped) {
  const std::string text =
      "{\"firstname\":\"A\"}\n"                       // 1 ok
      "{\"firstname\":\n"                             // 2 invalid JSON
      "\n"                                            // 3 blank
      "{\"gender\":\"Male\"}\n"                       // 4 invalid value
      "{\"firstname\":\"" + std::string(300, 'x') + "\"}\n"  // 5 longer than 200 bytes
      "[1,2]\n"                                       // 6 not an object
      "{\"firstname\":\"B\",\"shoeSize\":42}\n"       // 7 unknown key
      "{\"firstname\":\"C\"}\n";                      // 8 ok
  Result<ImportFileReport> report = Import(text, ImportKind::kCustomers, /*batch_size=*/3);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->lines, 7);
  EXPECT_EQ(report->created, 2);
  EXPECT_EQ(report->rejected, 5);

  ASSERT_EQ(bad_.size(), 5u);
  EXPECT_EQ(bad_[0].line, 2);
  EXPECT_NE(bad_[0].message.find("no valid JSON"), std::string::npos) << bad_[0].message;
  EXPECT_EQ(bad_[1].line, 4);
  EXPECT_NE(bad_[1].message.find("gender"), std::string::npos) << bad_[1].message;
  EXPECT_EQ(bad_[2].line, 5);
  EXPECT_EQ(bad_[2].code, Code::kTooLarge);
  EXPECT_NE(bad_[2].message.find("200"), std::string::npos) << bad_[2].message;
  EXPECT_EQ(bad_[3].line, 6);
  EXPECT_EQ(bad_[4].line, 7);
  EXPECT_NE(bad_[4].message.find("shoeSize"), std::string::npos) << bad_[4].message;

  // The two good lines are customers 1 and 2.
  Result<Customer> second = store().GetCustomer(2, false);
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(second->firstname, "C");
}

TEST_F(NdjsonImporterTest, StoreRejectionsCarryTheirLineNumbers) {
  ASSERT_TRUE(Import("{\"firstname\":\"A\"}\n", ImportKind::kCustomers).ok());

  // Line 2 names an unknown customer, line 3 is invalid, line 4 repeats the
  // a_id of line 1 and so updates that activity.
  const std::string activities =
      "{\"customerId\":1,\"type\":\"order\",\"a_id\":\"536001\",\"activityDate\":1}\n"
      "{\"customerId\":99,\"type\":\"order\",\"activityDate\":2}\n"
      "{\"customerId\":1,\"activityDate\":3}\n"
      "{\"customerId\":1,\"type\":\"order\",\"a_id\":\"536001\",\"activityDate\":4}\n";
  Result<ImportFileReport> report = Import(activities, ImportKind::kActivities,
                                           /*batch_size=*/2);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->lines, 4);
  EXPECT_EQ(report->created, 1);
  EXPECT_EQ(report->updated, 1);
  EXPECT_EQ(report->rejected, 2);

  ASSERT_EQ(bad_.size(), 2u);
  EXPECT_EQ(bad_[0].line, 2);
  EXPECT_EQ(bad_[0].code, Code::kInvalid);
  EXPECT_NE(bad_[0].message.find("99"), std::string::npos) << bad_[0].message;
  EXPECT_EQ(bad_[1].line, 3);
  EXPECT_NE(bad_[1].message.find("type"), std::string::npos) << bad_[1].message;

  Result<Activity> activity = store().GetActivity(1);
  ASSERT_TRUE(activity.ok()) << activity.status().message();
  EXPECT_EQ(activity->activity_date, 4);
}

TEST_F(NdjsonImporterTest, UniqueConflictIsRejectedPerLine) {
  CustomField number;
  number.name = "customerNumber";
  number.unique = true;
  schema_.fields.push_back(number);
  StoreOptions options;
  options.customer = schema_;
  Open(options);

  Result<ImportFileReport> report = Import(
      "{\"customerNumber\":\"1\"}\n{\"customerNumber\":\"2\"}\n{\"customerNumber\":\"1\"}\n",
      ImportKind::kCustomers);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->created, 2);
  ASSERT_EQ(bad_.size(), 1u);
  EXPECT_EQ(bad_[0].line, 3);
  EXPECT_EQ(bad_[0].code, Code::kConflict);
  EXPECT_NE(bad_[0].message.find("customer 1"), std::string::npos) << bad_[0].message;
}

TEST_F(NdjsonImporterTest, AssignmentsWithUnknownSegmentsAreRejected) {
  ASSERT_TRUE(Import("{\"firstname\":\"A\"}\n", ImportKind::kCustomers).ok());
  SegmentGroupPatch group;
  group.name = "Interests";
  ASSERT_TRUE(store().CreateSegmentGroup(group).ok());
  SegmentPatch segment;
  segment.name = "Gardening";
  segment.group = 1;
  ASSERT_TRUE(store().CreateSegment(segment).ok());

  Result<ImportFileReport> report =
      Import("{\"customerId\":1,\"addSegments\":[1]}\n"
             "{\"customerId\":1,\"addSegments\":[7]}\n"
             "{\"customerId\":2,\"addSegments\":[1]}\n",
             ImportKind::kAssignments);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->created, 1);
  ASSERT_EQ(bad_.size(), 2u);
  EXPECT_EQ(bad_[0].line, 2);
  EXPECT_EQ(bad_[0].code, Code::kInvalid);
  EXPECT_EQ(bad_[1].line, 3);
  EXPECT_EQ(bad_[1].code, Code::kNotFound);

  Result<Customer> customer = store().GetCustomer(1, false);
  ASSERT_TRUE(customer.ok());
  EXPECT_EQ(customer->segments, (std::vector<std::int64_t>{1}));
}

TEST_F(NdjsonImporterTest, MissingFileIsAnError) {
  NdjsonImporter importer(store(), schema_, ImportOptions(),
                          [](const std::string&, std::int64_t, const Status&) {});
  Result<ImportFileReport> report =
      importer.ImportFile(dir_.File("missing.ndjson"), ImportKind::kCustomers);
  EXPECT_FALSE(report.ok());
}

}  // namespace
}  // namespace cmfd

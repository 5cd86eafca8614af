#include "domain/segment_json.h"

#include <gtest/gtest.h>

#include <string>

#include "domain/deletion_json.h"

namespace cmfd {
namespace {

TEST(SegmentJson, ParsesGroupPatch) {
  Result<SegmentGroupPatch> patch = ParseSegmentGroupPatch(
      R"({"name": "Interests", "reference": "interests", "calculated": false,
          "showAsFilter": true, "filterSortOrder": 10, "exportNewsletterProvider": true,
          "id": 9, "success": true, "_links": []})",
      SegmentWrite::kCreate);
  ASSERT_TRUE(patch.ok()) << patch.status().message();
  EXPECT_EQ(patch->name, "Interests");
  ASSERT_TRUE(patch->reference);
  EXPECT_EQ(*patch->reference, "interests");
  EXPECT_EQ(patch->calculated, false);
  EXPECT_EQ(patch->show_as_filter, true);
  ASSERT_TRUE(patch->filter_sort_order);
  EXPECT_EQ(*patch->filter_sort_order, 10);
  EXPECT_EQ(patch->export_newsletter_provider, true);
}

TEST(SegmentJson, GroupNullsAndEmptyReference) {
  Result<SegmentGroupPatch> patch = ParseSegmentGroupPatch(
      R"({"reference": "", "filterSortOrder": null})", SegmentWrite::kUpdate);
  ASSERT_TRUE(patch.ok()) << patch.status().message();
  EXPECT_FALSE(patch->name);
  ASSERT_TRUE(patch->reference);
  EXPECT_FALSE(*patch->reference);
  ASSERT_TRUE(patch->filter_sort_order);
  EXPECT_FALSE(*patch->filter_sort_order);
}

TEST(SegmentJson, GroupRejectsBadValues) {
  Result<SegmentGroupPatch> patch = ParseSegmentGroupPatch(
      R"({"name": 5, "calculated": "no", "filterSortOrder": "1", "color": "red"})",
      SegmentWrite::kCreate);
  ASSERT_FALSE(patch.ok());
  const auto& problems = patch.status().messages();
  ASSERT_EQ(problems.size(), 4u);
  EXPECT_EQ(problems[0], "name: invalid value 5, must be a non-empty string");
  EXPECT_EQ(problems[1], R"(calculated: invalid value "no", must be true or false)");
  EXPECT_EQ(problems[2], R"(filterSortOrder: invalid value "1", must be a 64-bit integer or null)");
  EXPECT_EQ(problems[3], "unknown field \"color\"");
}

TEST(SegmentJson, NulRejectedInNameAndReference) {
  const std::string rule = ", the NUL character (U+0000) is not allowed";
  for (const SegmentWrite write : {SegmentWrite::kCreate, SegmentWrite::kUpdate}) {
    Result<SegmentGroupPatch> group =
        ParseSegmentGroupPatch(R"({"name": "a\u0000b", "reference": "\u0000"})", write);
    ASSERT_FALSE(group.ok());
    ASSERT_EQ(group.status().messages().size(), 2u);
    EXPECT_EQ(group.status().messages()[0], R"(name: invalid value "a\u0000b")" + rule);
    EXPECT_EQ(group.status().messages()[1], R"(reference: invalid value "\u0000")" + rule);

    Result<SegmentPatch> segment =
        ParseSegmentPatch(R"({"name": "s", "group": 1, "reference": "r\u0000"})", write);
    ASSERT_FALSE(segment.ok());
    EXPECT_EQ(segment.status().message(), R"(reference: invalid value "r\u0000")" + rule);
  }
}

TEST(SegmentJson, EmptyNameOnUpdateIsRejected) {
  EXPECT_EQ(ParseSegmentGroupPatch(R"({"name": ""})", SegmentWrite::kUpdate).status().message(),
            "name required");
  EXPECT_EQ(ParseSegmentPatch(R"({"name": null})", SegmentWrite::kUpdate).status().message(),
            "name required");
  // On create the store decides, after its checks of the group.
  Result<SegmentPatch> create = ParseSegmentPatch(R"({"name": ""})", SegmentWrite::kCreate);
  ASSERT_TRUE(create.ok());
  EXPECT_FALSE(create->name);
}

TEST(SegmentJson, ParsesSegmentPatch) {
  Result<SegmentPatch> patch = ParseSegmentPatch(
      R"({"name": "Runners", "group": "2001", "reference": "run", "calculated": true,
          "useAsTargetGroup": false, "subFolder": "sport/running", "targetGroup": null})",
      SegmentWrite::kCreate);
  ASSERT_TRUE(patch.ok()) << patch.status().message();
  EXPECT_EQ(patch->name, "Runners");
  EXPECT_EQ(patch->group, 2001);
  EXPECT_EQ(patch->calculated, true);
  EXPECT_EQ(patch->use_as_target_group, false);
}

TEST(SegmentJson, SegmentGroupMustBeAnId) {
  EXPECT_EQ(ParseSegmentPatch(R"({"group": "x"})", SegmentWrite::kCreate).status().message(),
            "group: invalid value \"x\", must be a positive 64-bit integer, as a JSON number or "
            "a string of digits");
  Result<SegmentPatch> null_group = ParseSegmentPatch(R"({"group": null})", SegmentWrite::kCreate);
  ASSERT_TRUE(null_group.ok());
  EXPECT_FALSE(null_group->group);
  EXPECT_EQ(ParseSegmentPatch(R"({"group": null})", SegmentWrite::kUpdate).status().message(),
            "group required");
}

TEST(SegmentJson, WritesGroupWithSuccessLast) {
  SegmentGroup group;
  group.id = 2001;
  group.name = "Sport";
  group.reference = "sport";
  group.show_as_filter = true;
  group.filter_sort_order = 10;
  group.modification_date = 1690000000;
  group.creation_date = 1689000000;
  std::string out;
  JsonWriter writer(out);
  WriteSegmentGroup(writer, group, true);
  EXPECT_EQ(out, R"({"id":2001,"name":"Sport","reference":"sport","calculated":false,)"
                 R"("showAsFilter":true,"filterSortOrder":10,"exportNewsletterProvider":false,)"
                 R"("modificationDate":1690000000,"creationDate":1689000000,)"
                 R"("_links":[{"rel":"self","href":"/webservice/cmf/segment-groups/2001",)"
                 R"("method":"GET"}],"success":true})");
}

TEST(SegmentJson, WritesSegment) {
  Segment segment;
  segment.id = 301;
  segment.name = "Runners";
  segment.group = 2001;
  segment.modification_date = 2;
  segment.creation_date = 1;
  std::string out;
  JsonWriter writer(out);
  WriteSegment(writer, segment, false);
  EXPECT_EQ(out, R"({"id":301,"name":"Runners","group":2001,"reference":null,)"
                 R"("calculated":false,"useAsTargetGroup":false,"modificationDate":2,)"
                 R"("creationDate":1,"_links":[{"rel":"self",)"
                 R"("href":"/webservice/cmf/segments/301","method":"GET"}]})");
}

TEST(SegmentJson, ParsesSegmentsOfCustomer) {
  Result<SegmentsOfCustomerRequest> request = ParseSegmentsOfCustomerRequest(
      R"({"customerId": "5", "addSegments": [1, "2"], "removeSegments": null})");
  ASSERT_TRUE(request.ok()) << request.status().message();
  EXPECT_EQ(request->customer_id, 5);
  EXPECT_EQ(request->add, (std::vector<std::int64_t>{1, 2}));
  EXPECT_TRUE(request->remove.empty());
}

TEST(SegmentJson, SegmentsOfCustomerProblems) {
  EXPECT_EQ(ParseSegmentsOfCustomerRequest(R"({"addSegments": [1]})").status().message(),
            "customerId required");
  const Status status =
      ParseSegmentsOfCustomerRequest(R"({"customerId": 5, "addSegments": [1, "x", 0],
                                         "removeSegments": 3})")
          .status();
  ASSERT_EQ(status.messages().size(), 3u);
  EXPECT_EQ(status.messages()[0], "addSegments[1]: invalid value \"x\", must be a positive "
                                  "64-bit integer, as a JSON number or a string of digits");
  EXPECT_EQ(status.messages()[2], "removeSegments: invalid value 3, must be an array of "
                                  "segment ids");
}

TEST(DeletionJson, WritesRow) {
  std::string out;
  JsonWriter writer(out);
  WriteDeletion(writer, Deletion{5100, "activities", "login", 1699991000});
  EXPECT_EQ(out, R"({"id":5100,"entityType":"activities","type":"login","creationDate":1699991000})");
}

}  // namespace
}  // namespace cmfd

// GET /deletions: the feed of deleted customers and activities.
#include <memory>
#include <string>
#include <utility>

#include "domain/deletion_json.h"
#include "domain/json_writer.h"
#include "handlers/common.h"
#include "handlers/handlers.h"

namespace cmfd {

namespace {

// Rows per store call when the whole feed is streamed: memory stays bounded
// by one chunk however long the feed is.
constexpr std::int64_t kChunkRows = 1000;

// The position in a streamed feed, shared by the calls of next_chunk.
struct DeletionStream {
  Store* store = nullptr;
  DeletionQuery query;
  DeletionCursor cursor;
  std::int64_t timestamp = 0;
  bool any_row = false;  // a row was written, so the next needs a comma
  bool done = false;
};

// Appends the next chunk of rows to `out`; sets stream.done after the last.
Status AppendChunk(DeletionStream& stream, std::string& out) {
  JsonWriter writer(out);
  Result<std::int64_t> rows = stream.store->ScanDeletions(
      stream.query, stream.cursor, kChunkRows, stream.timestamp, [&](const Deletion& deletion) {
        if (stream.any_row) out.push_back(',');
        stream.any_row = true;
        writer.Reset();
        WriteDeletion(writer, deletion);
      });
  if (!rows.ok()) return rows.status();
  stream.done = rows.value() < kChunkRows;
  return Status::Ok();
}

// The end of the streamed body; `timestamp` comes after `data` in it.
void AppendTail(const DeletionStream& stream, std::string& out) {
  out += "],\"success\":true,\"timestamp\":";
  out += std::to_string(stream.timestamp);
  out += '}';
}

// One page: {"page", "totalPages", "data", "success": true, "timestamp"}.
Response DeletionPage(const DeletionQuery& query, const PageRequest& page, Store& store) {
  std::string data;
  JsonWriter rows(data);
  rows.StartArray();
  Result<ListInfo> info = store.ListDeletions(
      query, page, [&](const Deletion& deletion) { WriteDeletion(rows, deletion); });
  rows.EndArray();
  if (!info.ok()) return ErrorResponse(info.status());

  std::string body;
  JsonWriter writer(body);
  writer.StartObject();
  writer.Key("page");
  writer.Int(page.page);
  writer.Key("totalPages");
  writer.Int(TotalPages(info->total_rows, page.page_size));
  writer.Key("data");
  writer.Raw(RawValue{data});
  writer.Key("success");
  writer.Bool(true);
  writer.Key("timestamp");
  writer.Int(info->timestamp);
  writer.EndObject();
  return JsonResponse(200, std::move(body));
}

Response ListDeletions(const Request& request, HandlerContext& context) {
  Status problems;
  DeletionQuery query;
  const auto entity_type = request.query.Get("entityType");
  if (!entity_type) {
    problems.Add(Code::kInvalid, "parameter entityType is required");
  } else if (*entity_type != "customers" && *entity_type != "activities") {
    problems.Add(Code::kInvalid, "entityType must be activities or customers");
  } else {
    query.entity_type = std::string(*entity_type);
  }
  query.since = ParseTimestampParam(request.query, "deletionsSinceTimestamp", problems);
  const bool paged = HasPaging(request.query);
  const PageRequest page = ParsePaging(request.query, context.config, problems);
  if (!problems.ok()) return ErrorResponse(problems);

  if (paged) return DeletionPage(query, page, context.store);

  // The first chunk is read before the response starts, so that a failing
  // store still gets a proper error status. Only later chunks are streamed.
  auto stream = std::make_shared<DeletionStream>();
  stream->store = &context.store;
  stream->query = std::move(query);
  std::string body = "{\"data\":[";
  const Status first = AppendChunk(*stream, body);
  if (!first.ok()) return ErrorResponse(first);
  if (stream->done) {
    AppendTail(*stream, body);
    return JsonResponse(200, std::move(body));
  }

  Response response = JsonResponse(200, std::move(body));
  response.next_chunk = [stream](std::string& out, bool& more) {
    const Status status = AppendChunk(*stream, out);
    if (!status.ok()) return status;
    if (stream->done) AppendTail(*stream, out);
    more = !stream->done;
    return Status::Ok();
  };
  return response;
}

}  // namespace

void RegisterDeletionRoutes(Router& router) {
  router.Add("GET", "/deletions", Access::kRead, ListDeletions);
}

}  // namespace cmfd

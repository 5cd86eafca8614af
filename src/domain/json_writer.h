// JsonWriter: the one way cmfd produces JSON.
//
// A thin layer over RapidJSON's Writer that appends compact JSON to a
// std::string. RapidJSON checks the nesting (in debug builds) and escapes
// strings, but copies their bytes without checking UTF-8. Stored strings are
// valid UTF-8 because each came through the JSON reader, which rejects
// anything else. Messages that quote query values are cleaned up by
// ErrorResponse.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <rapidjson/writer.h>

namespace cmfd {

// Pre-serialised compact JSON that is copied into the output unchanged, such
// as activity attributes or the literals of extra customer fields. The text
// must be one complete, valid JSON value.
struct RawValue {
  std::string_view json;
};

// A RapidJSON output stream that appends to a std::string.
class StringOutputStream {
 public:
  using Ch = char;

  explicit StringOutputStream(std::string& out) : out_(&out) {}
  void Put(char c) { out_->push_back(c); }
  void Flush() {}

 private:
  std::string* out_;
};

class JsonWriter {
 public:
  // Appends to `out`, which must outlive the writer.
  explicit JsonWriter(std::string& out) : stream_(out), writer_(stream_) {}

  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  // Starts a new top-level value, so that one writer can append several
  // values in a row (for example the rows of a streamed array).
  void Reset() { writer_.Reset(stream_); }

  void StartObject() { writer_.StartObject(); }
  void EndObject() { writer_.EndObject(); }
  void StartArray() { writer_.StartArray(); }
  void EndArray() { writer_.EndArray(); }

  // RapidJSON asserts a non-null pointer, which an empty string_view may
  // lack, hence the "" fallback.
  void Key(std::string_view key) {
    writer_.Key(key.empty() ? "" : key.data(), static_cast<rapidjson::SizeType>(key.size()));
  }
  void String(std::string_view value) {
    writer_.String(value.empty() ? "" : value.data(),
                   static_cast<rapidjson::SizeType>(value.size()));
  }
  void Int(std::int64_t value) { writer_.Int64(value); }
  void Bool(bool value) { writer_.Bool(value); }
  void Null() { writer_.Null(); }
  void Raw(RawValue value);

  void OptionalString(const std::optional<std::string>& value) {
    if (value) {
      String(*value);
    } else {
      Null();
    }
  }
  void OptionalInt(const std::optional<std::int64_t>& value) {
    if (value) {
      Int(*value);
    } else {
      Null();
    }
  }

  // Writes the `_links` array of a stored object:
  // [{"rel": "self", "href": "/webservice/cmf/<resource>/<id>", "method": "GET"}]
  void SelfLinks(std::string_view resource, std::int64_t id);

 private:
  StringOutputStream stream_;
  rapidjson::Writer<StringOutputStream> writer_;
};

}  // namespace cmfd

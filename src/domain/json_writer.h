// JsonWriter: the one way cmfd produces JSON.
//
// Appends compact JSON to a std::string. The output is the same byte for
// byte as that of RapidJSON's Writer with its default flags, which cmfd used
// before. `"`, `\` and control characters are escaped (\b \t \n \f \r, the
// others as \u00XX with upper-case hex digits). '/' and every byte from 0x7F
// up are copied as they are. Bytes are not checked for UTF-8. Stored
// strings are valid UTF-8 because each came through the JSON reader, which
// rejects anything else. Messages that quote query values are cleaned up by
// ErrorResponse.
//
// A customer list page writes about 50 tokens per row, so a token must cost
// only a few instructions. The writer lengthens the string in large steps
// and then writes through a pointer into the spare room, and a key given as
// a string literal goes out with its separators in one copy. The string has
// its final length again whenever a top-level value is complete. Debug
// builds assert that the starts and ends of objects and arrays match and
// that keys appear only in objects.
#pragma once

#include <cassert>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace cmfd {

// Pre-serialised compact JSON that is copied into the output unchanged, such
// as activity attributes or the literals of extra customer fields. The text
// must be one complete, valid JSON value.
struct RawValue {
  std::string_view json;
};

// True when `text` can go into a JSON string without escapes.
bool NeedsNoJsonEscape(std::string_view text);

class JsonWriter {
 public:
  // Appends to `out`, which must outlive the writer. While a top-level value
  // is being written, `out` contains unspecified bytes after the text written
  // so far. Between top-level values, others may read and append to it.
  explicit JsonWriter(std::string& out) : out_(&out) {}
  ~JsonWriter() { Commit(); }

  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  // Starts a new top-level value, so that one writer can append several
  // values in a row (for example the rows of a streamed array). No comma is
  // written between top-level values.
  void Reset() {
    Commit();
    depth_ = 0;
    comma_ = false;
  }

  void StartObject() { Open('{', false); }
  void EndObject() { Close('}', false); }
  void StartArray() { Open('[', true); }
  void EndArray() { Close(']', true); }

  // A key known at compile time, written without escaping: a string literal
  // without characters that need an escape (asserted in debug builds).
  template <std::size_t N>
  void Key(const char (&key)[N]) {
    assert(std::strlen(key) == N - 1);
    assert(NeedsNoJsonEscape(std::string_view(key, N - 1)));
    assert(InObject());
    Reserve(N + 3);  // comma, two quotes, colon and the N - 1 characters
    if (comma_) *pos_++ = ',';
    *pos_++ = '"';
    std::memcpy(pos_, key, N - 1);
    pos_ += N - 1;
    *pos_++ = '"';
    *pos_++ = ':';
    comma_ = false;
  }

  // Any other key, escaped like a string value.
  void Key(std::string_view key) {
    assert(InObject());
    Reserve(1);
    if (comma_) *pos_++ = ',';
    AppendQuoted(key);
    Reserve(1);
    *pos_++ = ':';
    comma_ = false;
  }

  void String(std::string_view value) {
    Reserve(1);
    if (comma_) *pos_++ = ',';
    AppendQuoted(value);
    Written();
  }
  void Int(std::int64_t value) {
    Reserve(21);  // a comma and up to 20 characters: "-9223372036854775808"
    if (comma_) *pos_++ = ',';
    pos_ = std::to_chars(pos_, end_, value).ptr;
    Written();
  }
  void Bool(bool value) { Literal(value ? std::string_view("true") : std::string_view("false")); }
  void Null() { Literal("null"); }
  void Raw(RawValue value) { Literal(value.json); }

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
  // `resource` must need no escaping, like a key literal.
  void SelfLinks(std::string_view resource, std::int64_t id);

 private:
  // Makes room for `bytes` more bytes at pos_; `bytes` is at least 1.
  void Reserve(std::size_t bytes) {
    if (static_cast<std::size_t>(end_ - pos_) < bytes) Grow(bytes);
  }
  void Copy(std::string_view text) {
    std::memcpy(pos_, text.data(), text.size());
    pos_ += text.size();
  }

  // Writes `text` as a value, after a comma if one is due.
  void Literal(std::string_view text) {
    if (text.size() > kLongLiteral) {
      LongLiteral(text);
      return;
    }
    Reserve(text.size() + 1);
    if (comma_) *pos_++ = ',';
    Copy(text);
    Written();
  }

  // After a value, the next one at the same level needs a comma. A
  // top-level value is complete, so `out` gets its final length.
  void Written() {
    comma_ = depth_ > 0;
    if (depth_ == 0) Commit();
  }

  // Raw values longer than this (a whole page inside its envelope) are
  // appended to the string directly rather than copied into spare room,
  // which Grow would first zero-fill.
  static constexpr std::size_t kLongLiteral = 4096;
  void LongLiteral(std::string_view text);

  void Open(char bracket, bool array);
  void Close(char bracket, bool array);
  void AppendQuoted(std::string_view text);
  void Grow(std::size_t bytes);
  void Commit();

#ifndef NDEBUG
  // Bit d of kinds_ is set when level d + 1 is an array (levels beyond 64
  // are not checked).
  bool InObject() const { return depth_ > 0 && (depth_ > 64 || !((kinds_ >> (depth_ - 1)) & 1)); }
  std::uint64_t kinds_ = 0;
#endif

  std::string* out_;
  // While a top-level value is being written, out_ is longer than the text:
  // [base_, pos_) is the text and [pos_, end_) spare room up to out_'s
  // length. All three are null between top-level values, when out_ has its
  // final length.
  char* base_ = nullptr;
  char* pos_ = nullptr;
  char* end_ = nullptr;
  int depth_ = 0;       // open objects and arrays
  bool comma_ = false;  // the next key or value at this level needs a comma
};

}  // namespace cmfd

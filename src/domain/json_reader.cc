#include "domain/json_reader.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <utility>
#include <vector>

#include "domain/validation.h"

namespace cmfd {

namespace {

constexpr std::size_t kMaxDepth = 512;  // simdjson's own default limit is 1024
constexpr std::string_view kNoValidJson = "Request body is no valid JSON: ";

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The bytes a string may hold as they are: printable ASCII (0x20-0x7F) but
// the quote and the backslash.
constexpr std::array<bool, 256> kPlainStringByte = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) plain[c] = c != '"' && c != '\\';
  return plain;
}();

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A single-pass RFC 8259 validator. It keeps an explicit stack of open
// containers instead of recursing, so a deeply nested body cannot exhaust
// the thread's stack.
class Validator {
 public:
  explicit Validator(std::string_view text) : text_(text) {}

  Status Run() {
    SkipSpace();
    if (pos_ == text_.size()) return Fail("the body is empty");

    bool expect_value = true;  // false: a value just ended
    while (true) {
      if (expect_value) {
        if (!Value(expect_value)) return error_;
        continue;
      }

      // After a value: the document ends, or its container goes on or closes.
      SkipSpace();
      if (stack_.empty()) break;
      const char open = stack_.back();
      const char close = open == '{' ? '}' : ']';
      if (pos_ == text_.size()) return Fail("unexpected end of input, expected ',' or '" +
                                            std::string(1, close) + "'");
      const char c = text_[pos_];
      if (c == close) {
        stack_.pop_back();
        ++pos_;
      } else if (c == ',') {
        ++pos_;
        if (open == '{' && !Key()) return error_;
        expect_value = true;
      } else {
        return Fail(Unexpected() + ", expected ',' or '" + std::string(1, close) + "'");
      }
    }

    if (pos_ != text_.size()) return Fail(Unexpected() + " after the end of the JSON value");
    return Status::Ok();
  }

 private:
  // Reads one value, or opens a container. Sets `expect_value` to false when
  // a complete value was read, true when a container was opened and its
  // first member follows.
  bool Value(bool& expect_value) {
    SkipSpace();
    if (pos_ == text_.size()) return FailBool("unexpected end of input, expected a value");
    const char c = text_[pos_];
    expect_value = false;

    if (c == '{' || c == '[') {
      if (stack_.size() == kMaxDepth) {
        return FailBool("objects and arrays nested deeper than " + std::to_string(kMaxDepth) +
                        " levels");
      }
      stack_.push_back(c);
      ++pos_;
      SkipSpace();
      const char close = c == '{' ? '}' : ']';
      if (pos_ < text_.size() && text_[pos_] == close) {
        stack_.pop_back();
        ++pos_;
        return true;
      }
      if (c == '{' && !Key()) return false;
      expect_value = true;
      return true;
    }
    if (c == '"') return String();
    if (c == '-' || IsDigit(c)) return Number();
    if (c == 't') return Literal("true");
    if (c == 'f') return Literal("false");
    if (c == 'n') return Literal("null");
    return FailBool(Unexpected() + ", expected a value");
  }

  // Reads `"key" :` inside an object.
  bool Key() {
    SkipSpace();
    if (pos_ == text_.size()) return FailBool("unexpected end of input, expected a key");
    if (text_[pos_] != '"') return FailBool(Unexpected() + ", expected a key in double quotes");
    if (!String()) return false;
    SkipSpace();
    if (pos_ == text_.size()) return FailBool("unexpected end of input, expected ':'");
    if (text_[pos_] != ':') return FailBool(Unexpected() + ", expected ':'");
    ++pos_;
    return true;
  }

  bool String() {
    const std::size_t start = pos_;
    ++pos_;  // the opening quote
    while (true) {
      // Most bytes of a string are printable ASCII other than the quote and
      // the backslash, and need no further check: skip them in a tight loop.
      while (pos_ < text_.size() && kPlainStringByte[static_cast<unsigned char>(text_[pos_])]) {
        ++pos_;
      }
      if (pos_ == text_.size()) {
        pos_ = start;
        return FailBool("unterminated string");
      }
      const unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c == '\\') {
        if (!Escape()) return false;
      } else if (c < 0x20) {
        return FailBool("control character " + Hex(c) + " in a string, it must be escaped");
      } else if (c >= 0x80) {
        if (!Utf8Sequence()) return false;
      } else {
        ++pos_;
      }
    }
  }

  bool Escape() {
    const std::size_t start = pos_;
    if (pos_ + 1 >= text_.size()) return FailBool("unterminated string");
    const char c = text_[pos_ + 1];
    if (c != 'u') {
      if (std::string_view("\"\\/bfnrt").find(c) == std::string_view::npos) {
        return FailBool("invalid escape sequence in a string");
      }
      pos_ += 2;
      return true;
    }

    const int unit = HexEscape(pos_);
    if (unit < 0) return FailBool("invalid \\u escape, expected four hex digits");
    pos_ += 6;
    if (unit >= 0xDC00 && unit <= 0xDFFF) {
      pos_ = start;
      return FailBool("invalid \\u escape, a low surrogate without a high surrogate");
    }
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      const int low = pos_ + 1 < text_.size() && text_[pos_] == '\\' && text_[pos_ + 1] == 'u'
                          ? HexEscape(pos_)
                          : -1;
      if (low < 0xDC00 || low > 0xDFFF) {
        pos_ = start;
        return FailBool("invalid \\u escape, a high surrogate without a low surrogate");
      }
      pos_ += 6;
    }
    return true;
  }

  // The code unit of the \uXXXX escape at `at`, or -1.
  int HexEscape(std::size_t at) const {
    if (at + 6 > text_.size()) return -1;
    int unit = 0;
    for (std::size_t i = at + 2; i < at + 6; ++i) {
      const int digit = HexDigit(text_[i]);
      if (digit < 0) return -1;
      unit = unit * 16 + digit;
    }
    return unit;
  }

  // Checks one multi-byte UTF-8 character: the right number of continuation
  // bytes, no overlong form, no surrogate, nothing above U+10FFFF.
  bool Utf8Sequence() {
    const unsigned char lead = static_cast<unsigned char>(text_[pos_]);
    std::size_t length = 0;
    unsigned char min_second = 0x80;
    unsigned char max_second = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) min_second = 0xA0;
      if (lead == 0xED) max_second = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) min_second = 0x90;
      if (lead == 0xF4) max_second = 0x8F;
    } else {
      return FailBool("invalid UTF-8 byte " + Hex(lead));
    }
    if (pos_ + length > text_.size()) return FailBool("truncated UTF-8 sequence");
    for (std::size_t i = 1; i < length; ++i) {
      const unsigned char next = static_cast<unsigned char>(text_[pos_ + i]);
      const unsigned char low = i == 1 ? min_second : 0x80;
      const unsigned char high = i == 1 ? max_second : 0xBF;
      if (next < low || next > high) return FailBool("invalid UTF-8 sequence");
    }
    pos_ += length;
    return true;
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool Number() {
    const std::size_t start = pos_;
    auto fail = [&] {
      pos_ = start;
      return FailBool("invalid number");
    };
    if (text_[pos_] == '-') ++pos_;
    if (pos_ == text_.size() || !IsDigit(text_[pos_])) return fail();
    if (text_[pos_] == '0') {
      ++pos_;
    } else {
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      if (pos_ == text_.size() || !IsDigit(text_[pos_])) return fail();
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (pos_ == text_.size() || !IsDigit(text_[pos_])) return fail();
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    }
    // "01" or "1x": the number must end at a delimiter.
    if (pos_ < text_.size() && (IsDigit(text_[pos_]) || std::isalpha(static_cast<unsigned char>(
                                                           text_[pos_])))) {
      return fail();
    }
    return true;
  }

  bool Literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return FailBool(Unexpected() + ", expected a value");
    pos_ += word.size();
    if (pos_ < text_.size() && std::isalnum(static_cast<unsigned char>(text_[pos_]))) {
      return FailBool(Unexpected() + " after " + std::string(word));
    }
    return true;
  }

  void SkipSpace() {
    while (pos_ < text_.size() && IsJsonSpace(text_[pos_])) ++pos_;
  }

  // Describes the byte at pos_ for a message.
  std::string Unexpected() const {
    if (pos_ >= text_.size()) return "unexpected end of input";
    const unsigned char c = static_cast<unsigned char>(text_[pos_]);
    if (c >= 0x21 && c < 0x7F) return std::string("unexpected character '") + char(c) + "'";
    return "unexpected byte " + Hex(c);
  }

  static std::string Hex(unsigned char c) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    return std::string("0x") + kDigits[c >> 4] + kDigits[c & 15];
  }

  Status Fail(const std::string& reason) {
    error_ = Status::Invalid(std::string(kNoValidJson) + reason + " at byte " +
                             std::to_string(pos_));
    return error_;
  }
  bool FailBool(const std::string& reason) {
    Fail(reason);
    return false;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::vector<char> stack_;
  Status error_;
};

const char* TypeName(JsonType type) {
  switch (type) {
    case JsonType::array: return "an array";
    case JsonType::object: return "an object";
    case JsonType::number: return "a number";
    case JsonType::string: return "a string";
    case JsonType::boolean: return "a boolean";
    case JsonType::null: return "null";
  }
  return "a value";
}

}  // namespace

Status ValidateJson(std::string_view text) { return Validator(text).Run(); }

std::string MinifyJson(std::string_view json) {
  // The output is never longer than the input, so it is written through a
  // pointer into a buffer of that size. An inner loop copies a string up to
  // its closing quote. This took half the time of appending byte by byte on
  // the attribute objects of the benchmark's activities.
  std::string out(json.size(), '\0');
  char* to = out.data();
  const char* from = json.data();
  const char* const end = from + json.size();
  while (from < end) {
    const char c = *from++;
    if (c == '"') {
      *to++ = c;
      while (from < end) {
        const char byte = *from++;
        *to++ = byte;
        if (byte == '"') break;
        if (byte == '\\' && from < end) *to++ = *from++;  // an escaped quote does not end it
      }
    } else if (!IsJsonSpace(c)) {
      *to++ = c;
    }
  }
  out.resize(static_cast<std::size_t>(to - out.data()));
  return out;
}

Status ForEachMember(std::string_view body,
                     const std::function<void(std::string_view key, JsonValue& value)>& visit) {
  Status valid = ValidateJson(body);
  if (!valid.ok()) return valid;

  std::size_t start = 0;
  while (IsJsonSpace(body[start])) ++start;
  if (body[start] != '{') {
    JsonType type = JsonType::null;
    if (body[start] == '[') type = JsonType::array;
    if (body[start] == '"') type = JsonType::string;
    if (body[start] == '-' || IsDigit(body[start])) type = JsonType::number;
    if (body[start] == 't' || body[start] == 'f') type = JsonType::boolean;
    return Status::Invalid(std::string(kNoValidJson) + "expected a JSON object, got " +
                           TypeName(type) + " at byte " + std::to_string(start));
  }

  // One parser and one padded buffer per thread: a parser is not thread-safe
  // and keeps its allocations between documents, and simdjson reads up to
  // SIMDJSON_PADDING bytes past the end of the text.
  thread_local simdjson::ondemand::parser parser;
  thread_local std::string buffer;
  buffer.assign(body);
  buffer.resize(body.size() + simdjson::SIMDJSON_PADDING);

  // The body is valid JSON, so a simdjson error here is a bug or a limit of
  // simdjson. The body still cannot be read, so the client gets a 400.
  auto unreadable = [](simdjson::error_code error) {
    return Status::Invalid(std::string(kNoValidJson) + simdjson::error_message(error));
  };

  simdjson::ondemand::document document;
  simdjson::error_code error = parser.iterate(buffer.data(), body.size(), buffer.size())
                                   .get(document);
  if (error) return unreadable(error);
  simdjson::ondemand::object object;
  error = document.get_object().get(object);
  if (error) return unreadable(error);

  // A key sent twice is rejected before any member is visited: which of the
  // two values wins would otherwise be an accident of the reader. Only the
  // top level is checked; nested objects taken as raw text (activity
  // attributes) are kept exactly as sent.
  std::vector<std::string> keys;
  for (auto member : object) {
    simdjson::ondemand::field field;
    error = std::move(member).get(field);
    if (error) return unreadable(error);
    std::string_view key;
    error = field.unescaped_key().get(key);
    if (error) return unreadable(error);
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
      return Status::Invalid("duplicate key " + QuoteForMessage(key) +
                             ", every key of the body must be sent once");
    }
    keys.emplace_back(key);
  }
  document.rewind();
  error = document.get_object().get(object);
  if (error) return unreadable(error);

  for (auto member : object) {
    simdjson::ondemand::field field;
    error = std::move(member).get(field);
    if (error) return unreadable(error);
    std::string_view key;
    error = field.unescaped_key().get(key);
    if (error) return unreadable(error);
    JsonValue value = field.value();
    visit(key, value);
  }
  return Status::Ok();
}

JsonType TypeOf(JsonValue& value) {
  JsonType type = JsonType::null;
  if (value.type().get(type)) return JsonType::null;
  return type;
}

std::string DescribeValue(JsonValue& value) {
  const JsonType type = TypeOf(value);
  std::string_view text;
  if (type == JsonType::object) {
    simdjson::ondemand::object object;
    if (value.get_object().get(object) || object.raw_json().get(text)) return "an object";
    return ShortenForMessage(MinifyJson(text));
  }
  if (type == JsonType::array) {
    simdjson::ondemand::array array;
    if (value.get_array().get(array) || array.raw_json().get(text)) return "an array";
    return ShortenForMessage(MinifyJson(text));
  }

  // A scalar's token runs up to the next token, so it may end in whitespace.
  text = value.raw_json_token();
  while (!text.empty() && IsJsonSpace(text.back())) text.remove_suffix(1);
  return ShortenForMessage(text);
}

void AddInvalidValue(Status& problems, std::string_view field, JsonValue& value,
                     std::string_view rule) {
  std::string message(field);
  message += ": invalid value ";
  message += DescribeValue(value);
  message += ", must be ";
  message += rule;
  problems.Add(Code::kInvalid, std::move(message));
}

std::optional<std::string_view> ReadString(JsonValue& value, std::string_view field,
                                           std::string_view rule, Status& problems) {
  std::string_view text;
  if (TypeOf(value) != JsonType::string || value.get_string().get(text)) {
    AddInvalidValue(problems, field, value, rule);
    return std::nullopt;
  }

  // PostgreSQL text cannot store U+0000 (libpq would cut the value at it),
  // so it is rejected here, for every backend alike.
  if (text.find('\0') != std::string_view::npos) {
    problems.Add(Code::kInvalid, std::string(field) + ": invalid value " + DescribeValue(value) +
                                     ", " + std::string(kNulNotAllowed));
    return std::nullopt;
  }
  return text;
}

std::optional<bool> ReadBool(JsonValue& value, std::string_view field, Status& problems) {
  bool flag = false;
  if (TypeOf(value) == JsonType::boolean && !value.get_bool().get(flag)) return flag;
  AddInvalidValue(problems, field, value, "true or false");
  return std::nullopt;
}

std::optional<std::int64_t> ReadInt(JsonValue& value, std::string_view field,
                                    std::string_view rule, Status& problems) {
  if (TypeOf(value) == JsonType::number) {
    // The token check keeps "1.0" and "1e2" out, in case simdjson reads them
    // as integers.
    const std::string_view token = value.raw_json_token();
    const bool plain = token.find_first_of(".eE") == std::string_view::npos;
    std::int64_t number = 0;
    if (plain && !value.get_int64().get(number)) return number;
  }
  AddInvalidValue(problems, field, value, rule);
  return std::nullopt;
}

std::optional<std::int64_t> ReadId(JsonValue& value, std::string_view field, Status& problems) {
  std::optional<std::int64_t> id;
  switch (TypeOf(value)) {
    case JsonType::number: {
      const std::string_view token = value.raw_json_token();
      std::int64_t number = 0;
      if (token.find_first_of(".eE") == std::string_view::npos && !value.get_int64().get(number)) {
        id = number;
      }
      break;
    }
    case JsonType::string: {
      std::string_view text;
      if (!value.get_string().get(text)) id = ParseUnsignedInt64(text);
      break;
    }
    default:
      break;
  }
  if (id && *id > 0) return id;

  // raw_json_token reads from the value's start, so it still works after
  // get_string consumed the value.
  AddInvalidValue(problems, field, value,
                  "a positive 64-bit integer, as a JSON number or a string of digits");
  return std::nullopt;
}

std::optional<std::string> ReadObjectText(JsonValue& value, std::string_view field,
                                          Status& problems) {
  if (TypeOf(value) != JsonType::object) {
    AddInvalidValue(problems, field, value, "a JSON object");
    return std::nullopt;
  }
  simdjson::ondemand::object object;
  std::string_view text;
  if (value.get_object().get(object) || object.raw_json().get(text)) {
    problems.Add(Code::kInvalid, std::string(field) + ": the object cannot be read");
    return std::nullopt;
  }
  return MinifyJson(text);
}

}  // namespace cmfd

#include "storage/json_text.h"

#include <cstdio>

namespace cmfd {

void AppendJsonString(std::string& out, std::string_view text) {
  out.push_back('"');
  for (char ch : text) {
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(ch));
          out += escaped;
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

std::string EncodeExtraFields(const std::vector<CustomField>& fields,
                              const std::vector<std::optional<std::string>>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < fields.size() && i < values.size(); ++i) {
    if (!values[i]) continue;
    if (out.size() > 1) out.push_back(',');
    AppendJsonString(out, fields[i].name);
    out.push_back(':');
    out += *values[i];
  }
  out.push_back('}');
  return out;
}

namespace {

// A cursor over JSON text that parses just enough of the grammar to split an
// object into keys and raw value texts.
class JsonScanner {
 public:
  explicit JsonScanner(std::string_view text) : text_(text) {}

  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\t')) {
      ++pos_;
    }
  }

  bool Consume(char ch) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ch) {
      ++pos_;
      return true;
    }
    return false;
  }

  bool AtEnd() {
    SkipSpace();
    return pos_ == text_.size();
  }

  // Reads a string literal into `text`. A literal without escapes (every key
  // EncodeExtraFields writes for a plain field name) is returned as a view of
  // the input. Any other literal is decoded into `decoded`, and `text` views
  // that.
  bool ReadString(std::string_view& text, std::string& decoded) {
    if (!Consume('"')) return false;
    const std::size_t start = pos_;
    while (pos_ < text_.size()) {
      const char ch = text_[pos_];
      if (ch == '\\') break;
      ++pos_;
      if (ch == '"') {
        text = text_.substr(start, pos_ - 1 - start);
        return true;
      }
    }
    pos_ = start - 1;
    if (!DecodeString(decoded)) return false;
    text = decoded;
    return true;
  }

  // Reads a string literal and decodes its escapes into `out`.
  bool DecodeString(std::string& out) {
    out.clear();
    if (!Consume('"')) return false;
    while (pos_ < text_.size()) {
      char ch = text_[pos_++];
      if (ch == '"') return true;
      if (ch != '\\') {
        out.push_back(ch);
        continue;
      }
      if (pos_ >= text_.size()) return false;
      char escape = text_[pos_++];
      switch (escape) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u':
          if (!ReadUnicodeEscape(out)) return false;
          break;
        default: return false;
      }
    }
    return false;
  }

  // Skips one value of any kind and returns its text without surrounding
  // space.
  bool ReadRawValue(std::string_view& raw) {
    SkipSpace();
    std::size_t start = pos_;
    int depth = 0;
    while (pos_ < text_.size()) {
      char ch = text_[pos_];
      if (ch == '"') {
        if (!SkipString()) return false;
        if (depth == 0) break;
        continue;
      }
      if (ch == '{' || ch == '[') {
        ++depth;
      } else if (ch == '}' || ch == ']') {
        if (depth == 0) break;
        --depth;
        if (depth == 0) {
          ++pos_;
          break;
        }
      } else if (ch == ',' && depth == 0) {
        break;
      }
      ++pos_;
    }
    if (depth != 0) return false;
    std::size_t end = pos_;
    while (end > start && (text_[end - 1] == ' ' || text_[end - 1] == '\n' ||
                           text_[end - 1] == '\r' || text_[end - 1] == '\t')) {
      --end;
    }
    raw = text_.substr(start, end - start);
    return !raw.empty();
  }

 private:
  bool SkipString() {
    ++pos_;  // the opening quote
    while (pos_ < text_.size()) {
      char ch = text_[pos_++];
      if (ch == '\\') {
        ++pos_;
      } else if (ch == '"') {
        return true;
      }
    }
    return false;
  }

  bool ReadHex4(unsigned& value) {
    if (pos_ + 4 > text_.size()) return false;
    value = 0;
    for (int i = 0; i < 4; ++i) {
      char ch = text_[pos_++];
      value <<= 4;
      if (ch >= '0' && ch <= '9') {
        value |= static_cast<unsigned>(ch - '0');
      } else if (ch >= 'a' && ch <= 'f') {
        value |= static_cast<unsigned>(ch - 'a' + 10);
      } else if (ch >= 'A' && ch <= 'F') {
        value |= static_cast<unsigned>(ch - 'A' + 10);
      } else {
        return false;
      }
    }
    return true;
  }

  // Decodes \uXXXX (and a following low surrogate) to UTF-8.
  bool ReadUnicodeEscape(std::string& out) {
    unsigned code = 0;
    if (!ReadHex4(code)) return false;
    if (code >= 0xD800 && code <= 0xDBFF) {
      unsigned low = 0;
      if (pos_ + 2 > text_.size() || text_[pos_] != '\\' || text_[pos_ + 1] != 'u') return false;
      pos_ += 2;
      if (!ReadHex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
    }
    if (code < 0x80) {
      out.push_back(static_cast<char>(code));
    } else if (code < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (code >> 6)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else if (code < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (code >> 12)));
      out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (code >> 18)));
      out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    }
    return true;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

Status DecodeExtraFields(std::string_view object, const std::vector<CustomField>& fields,
                         std::vector<std::optional<std::string>>& values) {
  values.assign(fields.size(), std::nullopt);
  auto damaged = [&] {
    return Status::Internal("stored extra customer fields are not a JSON object: " +
                            std::string(object.substr(0, 200)));
  };

  JsonScanner scanner(object);
  if (!scanner.Consume('{')) return damaged();
  if (scanner.Consume('}')) return scanner.AtEnd() ? Status::Ok() : damaged();

  std::string decoded;
  while (true) {
    std::string_view key;
    std::string_view raw;
    if (!scanner.ReadString(key, decoded) || !scanner.Consume(':') ||
        !scanner.ReadRawValue(raw)) {
      return damaged();
    }
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (fields[i].name == key) {
        if (raw != "null") values[i].emplace(raw);
        break;
      }
    }
    if (scanner.Consume(',')) continue;
    if (scanner.Consume('}') && scanner.AtEnd()) return Status::Ok();
    return damaged();
  }
}

std::string JsonIntArray(const std::vector<std::int64_t>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += std::to_string(values[i]);
  }
  out.push_back(']');
  return out;
}

std::string JsonStringArray(const std::vector<std::string>& values) {
  std::string out = "[";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendJsonString(out, values[i]);
  }
  out.push_back(']');
  return out;
}

}  // namespace cmfd

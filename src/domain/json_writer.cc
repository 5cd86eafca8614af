#include "domain/json_writer.h"

#include <algorithm>
#include <array>

namespace cmfd {

namespace {

// The character after the backslash of each byte's escape: 'u' for \u00XX,
// 0 for a byte copied as it is.
constexpr std::array<char, 256> MakeEscapeTable() {
  std::array<char, 256> table{};
  for (int byte = 0; byte < 0x20; ++byte) table[byte] = 'u';
  table['\b'] = 'b';
  table['\t'] = 't';
  table['\n'] = 'n';
  table['\f'] = 'f';
  table['\r'] = 'r';
  table['"'] = '"';
  table['\\'] = '\\';
  return table;
}

constexpr std::array<char, 256> kEscapes = MakeEscapeTable();

char EscapeOf(char byte) { return kEscapes[static_cast<unsigned char>(byte)]; }

// The first capacity of a string that had none, so that short values (a
// quoted message, one activity) need one allocation.
constexpr std::size_t kMinimumCapacity = 256;

// The spare room one Grow makes usable at most, beyond what the caller
// needs. Growing the length in steps zero-fills each byte about once, where
// growing it to the whole capacity would also fill the unused half of the
// last doubling.
constexpr std::size_t kRoomStep = 8192;

}  // namespace

bool NeedsNoJsonEscape(std::string_view text) {
  for (const char byte : text) {
    if (EscapeOf(byte) != 0) return false;
  }
  return true;
}

void JsonWriter::Grow(std::size_t bytes) {
  const std::size_t used = pos_ != nullptr ? static_cast<std::size_t>(pos_ - base_)
                                           : out_->size();
  const std::size_t needed = used + bytes;
  if (needed > out_->capacity()) {
    // Doubling keeps the copies of a growing page linear in its length.
    out_->reserve(std::max({needed, 2 * out_->capacity(), kMinimumCapacity}));
  }
  // The bytes past `used` are overwritten before anyone reads them. resize
  // zero-fills them, which costs less than a capacity check per token.
  out_->resize(std::min(out_->capacity(), std::max(needed, used + kRoomStep)));
  base_ = out_->data();
  pos_ = base_ + used;
  end_ = base_ + out_->size();
}

void JsonWriter::Commit() {
  if (pos_ == nullptr) return;
  // A string that was moved from or replaced while a value was open no
  // longer contains this writer's buffer, so it is left as it is.
  if (out_->data() == base_ && out_->size() == static_cast<std::size_t>(end_ - base_)) {
    out_->resize(static_cast<std::size_t>(pos_ - base_));
  }
  base_ = pos_ = end_ = nullptr;
}

void JsonWriter::LongLiteral(std::string_view text) {
  Reserve(1);
  if (comma_) *pos_++ = ',';

  // The string gets the length of the text so far and then `text` in one
  // append. The next token makes new spare room, as at the start of a value.
  out_->resize(static_cast<std::size_t>(pos_ - base_));
  base_ = pos_ = end_ = nullptr;
  out_->append(text);
  Written();
}

void JsonWriter::Open(char bracket, bool array) {
  Reserve(2);
  if (comma_) *pos_++ = ',';
  *pos_++ = bracket;
#ifndef NDEBUG
  if (depth_ < 64) {
    kinds_ = (kinds_ & ~(std::uint64_t{1} << depth_)) |
             (static_cast<std::uint64_t>(array) << depth_);
  }
#else
  (void)array;
#endif
  ++depth_;
  comma_ = false;
}

void JsonWriter::Close(char bracket, bool array) {
  assert(depth_ > 0);
#ifndef NDEBUG
  assert(depth_ > 64 || ((kinds_ >> (depth_ - 1)) & 1) == static_cast<std::uint64_t>(array));
#else
  (void)array;
#endif
  Reserve(1);
  *pos_++ = bracket;
  --depth_;
  Written();
}

void JsonWriter::AppendQuoted(std::string_view text) {
  static constexpr char kHexDigits[] = "0123456789ABCDEF";
  // Room for the text and both quotes; each escape makes room for itself
  // and the rest.
  Reserve(text.size() + 2);
  *pos_++ = '"';

  // Copies each run of bytes that need no escape at once.
  std::size_t run = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char escape = EscapeOf(text[i]);
    if (escape == 0) continue;
    Copy(text.substr(run, i - run));
    run = i + 1;
    Reserve(6 + (text.size() - run) + 1);
    *pos_++ = '\\';
    *pos_++ = escape;
    if (escape == 'u') {
      const auto byte = static_cast<unsigned char>(text[i]);
      *pos_++ = '0';
      *pos_++ = '0';
      *pos_++ = kHexDigits[byte >> 4];
      *pos_++ = kHexDigits[byte & 15];
    }
  }
  Copy(text.substr(run));
  *pos_++ = '"';
}

void JsonWriter::SelfLinks(std::string_view resource, std::int64_t id) {
  assert(NeedsNoJsonEscape(resource));
  static constexpr std::string_view kHead = R"([{"rel":"self","href":"/webservice/cmf/)";
  static constexpr std::string_view kTail = R"(","method":"GET"}])";
  Reserve(1 + kHead.size() + resource.size() + 1 + 20 + kTail.size());
  if (comma_) *pos_++ = ',';
  Copy(kHead);
  Copy(resource);
  *pos_++ = '/';
  pos_ = std::to_chars(pos_, end_, id).ptr;
  Copy(kTail);
  Written();
}

}  // namespace cmfd

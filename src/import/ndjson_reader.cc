#include "import/ndjson_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace cmfd {

namespace {

// Reads happen in blocks of this size; a line longer than the buffer makes it
// grow up to the maximum line length.
constexpr std::size_t kBlockBytes = 1 << 20;

bool IsBlank(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c == ' ' || c == '\t'; });
}

}  // namespace

Result<std::unique_ptr<NdjsonReader>> NdjsonReader::Open(const std::string& path,
                                                         std::uint64_t max_line_bytes) {
  if (path == "-") {
    return std::unique_ptr<NdjsonReader>(
        new NdjsonReader("standard input", STDIN_FILENO, false, max_line_bytes));
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Status::Unavailable("cannot open " + path + ": " + std::strerror(errno));
  }
  // The file is read once from start to end.
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return std::unique_ptr<NdjsonReader>(new NdjsonReader(path, fd, true, max_line_bytes));
}

NdjsonReader::NdjsonReader(std::string path, int fd, bool owns_fd, std::uint64_t max_line_bytes)
    : path_(std::move(path)),
      fd_(fd),
      owns_fd_(owns_fd),
      max_line_bytes_(max_line_bytes),
      buffer_(kBlockBytes) {}

NdjsonReader::~NdjsonReader() {
  if (owns_fd_) ::close(fd_);
}

Result<std::size_t> NdjsonReader::Fill() {
  // Move the unconsumed tail to the front, then grow the buffer if the tail
  // fills it (a long line), so that every read adds at least a block.
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buffer_.size() - end_ < kBlockBytes) buffer_.resize(end_ + kBlockBytes);

  while (true) {
    const ssize_t got = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Status::Unavailable("cannot read " + path_ + ": " + std::strerror(errno));
    if (got == 0) eof_ = true;
    end_ += static_cast<std::size_t>(got);
    return static_cast<std::size_t>(got);
  }
}

Result<bool> NdjsonReader::Next(NdjsonLine& line) {
  while (true) {
    // Find the end of the next line, reading more until a '\n' appears, the
    // file ends, or the line is known to be too long. `checked` counts the
    // bytes after begin_ already known to hold no '\n' (Fill() moves them).
    std::size_t checked = 0;
    const char* newline = nullptr;
    while (true) {
      const char* start = buffer_.data() + begin_;
      newline = static_cast<const char*>(
          std::memchr(start + checked, '\n', end_ - begin_ - checked));
      if (newline != nullptr || eof_) break;
      checked = end_ - begin_;
      // One byte more than the maximum may be the '\r' of a "\r\n" line end.
      if (checked > max_line_bytes_ + 1) return SkipLongLine(line);
      Result<std::size_t> filled = Fill();
      if (!filled.ok()) return filled.status();
    }

    if (newline == nullptr && begin_ == end_) return false;  // end of file

    const std::size_t line_end =
        newline != nullptr ? static_cast<std::size_t>(newline - buffer_.data()) : end_;
    std::string_view text(buffer_.data() + begin_, line_end - begin_);
    const std::size_t consumed = text.size() + (newline != nullptr ? 1 : 0);
    begin_ += consumed;
    bytes_read_ += consumed;
    ++line_number_;

    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (at_start_) {
      at_start_ = false;
      if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    }
    if (IsBlank(text)) continue;

    line.number = line_number_;
    line.length = text.size();
    line.too_long = text.size() > max_line_bytes_;
    line.text = line.too_long ? std::string_view() : text;
    return true;
  }
}

Result<bool> NdjsonReader::SkipLongLine(NdjsonLine& line) {
  // Everything buffered belongs to the line; drop it and read on, block by
  // block, until its '\n' or the end of the file.
  std::uint64_t length = end_ - begin_;
  char last_byte = buffer_[end_ - 1];
  begin_ = end_;
  bool ended_by_newline = false;
  while (!eof_) {
    Result<std::size_t> filled = Fill();
    if (!filled.ok()) return filled.status();
    const char* newline = static_cast<const char*>(std::memchr(buffer_.data(), '\n', end_));
    const std::size_t part =
        newline != nullptr ? static_cast<std::size_t>(newline - buffer_.data()) : end_;
    if (part > 0) last_byte = buffer_[part - 1];
    length += part;
    if (newline != nullptr) {
      begin_ = part + 1;
      ended_by_newline = true;
      break;
    }
    begin_ = end_;
  }
  bytes_read_ += length + (ended_by_newline ? 1 : 0);
  if (ended_by_newline && last_byte == '\r') --length;

  ++line_number_;
  at_start_ = false;
  line.number = line_number_;
  line.text = {};
  line.too_long = true;
  line.length = length;
  return true;
}

}  // namespace cmfd

// NdjsonReader: the lines of a newline-delimited JSON file, read in large
// blocks.
//
// A line ends at '\n'; a '\r' before it is dropped, and so is a UTF-8 byte
// order mark at the start of the file. Lines that hold only spaces and tabs
// are skipped but counted, so that line numbers match what an editor shows.
// The last line needs no '\n'.
//
// A line longer than the configured maximum is not kept in memory: the
// reader skips to its end and reports its length, so one oversized line
// cannot exhaust memory and the lines after it are still read.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace cmfd {

struct NdjsonLine {
  std::int64_t number = 0;   // 1-based line number in the file
  std::string_view text;     // without the line end; empty when too_long
  bool too_long = false;     // longer than max_line_bytes; `length` says how long
  std::uint64_t length = 0;  // bytes of the line without its line end
};

class NdjsonReader {
 public:
  // Opens `path` for reading; "-" is standard input. Lines longer than
  // `max_line_bytes` are reported as too long.
  static Result<std::unique_ptr<NdjsonReader>> Open(const std::string& path,
                                                    std::uint64_t max_line_bytes);

  NdjsonReader(const NdjsonReader&) = delete;
  NdjsonReader& operator=(const NdjsonReader&) = delete;
  ~NdjsonReader();

  // Reads the next non-blank line into `line`. Returns false at the end of
  // the file, and an error Status (naming the file) when reading fails.
  // `line.text` stays valid until the next call.
  Result<bool> Next(NdjsonLine& line);

  const std::string& path() const { return path_; }
  // Bytes consumed so far.
  std::uint64_t bytes_read() const { return bytes_read_; }

 private:
  NdjsonReader(std::string path, int fd, bool owns_fd, std::uint64_t max_line_bytes);

  // Appends more of the file to buffer_ after dropping the consumed part.
  // Returns the number of bytes added (0 at the end of the file).
  Result<std::size_t> Fill();

  // Consumes the rest of a line that is longer than the maximum and
  // describes it in `line`.
  Result<bool> SkipLongLine(NdjsonLine& line);

  std::string path_;
  int fd_;
  bool owns_fd_;
  std::uint64_t max_line_bytes_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;  // first unconsumed byte in buffer_
  std::size_t end_ = 0;    // one past the last valid byte in buffer_
  bool eof_ = false;
  bool at_start_ = true;   // nothing returned yet: a byte order mark may follow
  std::int64_t line_number_ = 0;
  std::uint64_t bytes_read_ = 0;
};

}  // namespace cmfd

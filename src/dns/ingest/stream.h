// A byte stream over a file or stdin, gzip-compressed or not (zlib reads both transparently),
// with the first bytes available for format sniffing before anything is consumed.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "fluxscore/status.h"

namespace fluxscore::dns {

class ByteStream {
 public:
  ByteStream() = default;
  ~ByteStream();
  ByteStream(const ByteStream&) = delete;
  ByteStream& operator=(const ByteStream&) = delete;

  // path "-" is stdin. The name used in messages is the path ("<stdin>" for "-").
  Status Open(const std::string& path);

  // Up to n bytes from the start of the stream (fewer when the stream is shorter), without
  // consuming them.
  Result<std::string_view> Peek(size_t n);

  // Reads up to n bytes; 0 at the end. A read error (truncated or corrupt gzip data, I/O error)
  // is an error naming the file; the bytes decoded before it are returned first (the error
  // comes with the next call).
  Result<size_t> Read(void* buf, size_t n);

  const std::string& name() const { return name_; }
  bool compressed() const { return compressed_; }
  // Bytes of the (possibly compressed) file consumed so far and its size (0: unknown), for
  // progress reports.
  uint64_t raw_offset() const;
  uint64_t raw_size() const { return raw_size_; }

 private:
  gzFile gz_ = nullptr;
  std::string name_;
  std::vector<char> head_;  // peeked bytes not yet consumed
  size_t head_pos_ = 0;
  bool compressed_ = false;
  uint64_t raw_size_ = 0;
  Status pending_;  // an error met after some bytes were returned
};

// Reads a stream line by line ('\n'; a trailing '\r' is kept for the reader to judge). Lines
// longer than max_line are reported as too long and skipped to their end, with their number.
class LineReader {
 public:
  LineReader(ByteStream& in, size_t max_line = 1 << 20) : in_(in), max_line_(max_line) {}

  enum class Got { kLine, kTooLong, kEnd };
  // Next line (without '\n') in *line; valid until the next call. line_no() is its number.
  Result<Got> Next(std::string_view* line);
  uint64_t line_no() const { return line_no_; }
  // Next's common case, inline: a whole '\n'-terminated line (not longer than max_line)
  // already in the buffer, returned as Next would. False, with nothing consumed, otherwise:
  // then call Next.
  bool NextBuffered(std::string_view* line) {
    const char* const start = buf_.data() + begin_;
    const void* nl = begin_ < end_ ? std::memchr(start, '\n', end_ - begin_) : nullptr;
    if (nl == nullptr) return false;
    const size_t len = static_cast<size_t>(static_cast<const char*>(nl) - start);
    if (len > max_line_) return false;
    unterminated_ = false;
    ++line_no_;
    *line = std::string_view(start, len);
    begin_ += len + 1;
    return true;
  }
  // Whether the last line returned ended at end of input without '\n'.
  bool last_unterminated() const { return unterminated_; }

 private:
  Status Fill();
  ByteStream& in_;
  size_t max_line_;
  std::vector<char> buf_ = std::vector<char>(1 << 18);
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  bool unterminated_ = false;
  uint64_t line_no_ = 0;
  std::string long_;  // assembling a line that spans buffer refills
};

}  // namespace fluxscore::dns

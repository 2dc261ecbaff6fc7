#include "dns/ingest/stream.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace fluxscore::dns {

ByteStream::~ByteStream() {
  if (gz_ != nullptr) gzclose(gz_);
}

Status ByteStream::Open(const std::string& path) {
  int fd;
  if (path == "-") {
    name_ = "<stdin>";
    fd = dup(0);
  } else {
    name_ = path;
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0) return Status::IoError(fmt::format("{}: cannot open: {}", name_, std::strerror(errno)));
  struct stat st;
  if (fstat(fd, &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      ::close(fd);
      return Status::IoError(fmt::format("{}: is a directory", name_));
    }
    if (S_ISREG(st.st_mode)) raw_size_ = static_cast<uint64_t>(st.st_size);
  }
  gz_ = gzdopen(fd, "rb");
  if (gz_ == nullptr) {
    ::close(fd);
    return Status::IoError(fmt::format("{}: cannot open", name_));
  }
  // zlib reads (or inflates) straight into the caller's buffer for requests of at least twice
  // this size, and copies through its own buffer below that: LineReader asks for ~256 KiB.
  gzbuffer(gz_, 1 << 16);
  return Status::Ok();
}

Result<std::string_view> ByteStream::Peek(size_t n) {
  while (head_.size() - head_pos_ < n) {
    char buf[4096];
    const size_t want = std::min(sizeof buf, n - (head_.size() - head_pos_));
    const int got = gzread(gz_, buf, static_cast<unsigned>(want));
    if (got < 0) {
      int err = 0;
      const char* msg = gzerror(gz_, &err);
      return Status::DataError(fmt::format("{}: read error: {}", name_, msg));
    }
    if (got == 0) break;
    head_.insert(head_.end(), buf, buf + got);
  }
  compressed_ = gzdirect(gz_) == 0;
  const size_t avail = std::min(n, head_.size() - head_pos_);
  return std::string_view(head_.data() + head_pos_, avail);
}

Result<size_t> ByteStream::Read(void* buf, size_t n) {
  if (!pending_.ok()) return pending_;
  char* out = static_cast<char*>(buf);
  size_t done = 0;
  if (head_pos_ < head_.size()) {
    done = std::min(n, head_.size() - head_pos_);
    std::memcpy(out, head_.data() + head_pos_, done);
    head_pos_ += done;
    if (head_pos_ == head_.size()) {
      head_.clear();
      head_pos_ = 0;
    }
    if (done == n) return done;
  }
  while (done < n) {
    const size_t want = std::min<size_t>(n - done, 1u << 30);
    const int got = gzread(gz_, out + done, static_cast<unsigned>(want));
    Status error;
    if (got < 0) {
      int err = 0;
      const char* msg = gzerror(gz_, &err);
      error = Status::DataError(fmt::format("{}: read error: {}", name_, msg));
    } else if (got == 0) {
      // zlib reports a gzip stream cut short as a plain end of file; tell them apart.
      int err = 0;
      const char* msg = gzerror(gz_, &err);
      if (err != Z_OK && err != Z_STREAM_END)
        error = Status::DataError(fmt::format("{}: read error: {}", name_, msg));
      else if (gzdirect(gz_) == 0 && !gzeof(gz_))
        error = Status::DataError(fmt::format("{}: read error", name_));
      else
        break;
    }
    if (!error.ok()) {
      if (done == 0) return error;
      pending_ = std::move(error);  // hand out what was decoded first
      return done;
    }
    done += static_cast<size_t>(got);
  }
  return done;
}

uint64_t ByteStream::raw_offset() const {
  if (gz_ == nullptr) return 0;
  const z_off_t off = gzoffset(gz_);
  return off < 0 ? 0 : static_cast<uint64_t>(off);
}

Status LineReader::Fill() {
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buf_.size()) return Status::Ok();
  FLUXSCORE_ASSIGN_OR_RETURN(size_t got, in_.Read(buf_.data() + end_, buf_.size() - end_));
  if (got == 0) eof_ = true;
  end_ += got;
  return Status::Ok();
}

Result<LineReader::Got> LineReader::Next(std::string_view* line) {
  unterminated_ = false;
  long_.clear();
  bool too_long = false;
  for (;;) {
    const char* start = buf_.data() + begin_;
    const void* nl = std::memchr(start, '\n', end_ - begin_);
    if (nl != nullptr) {
      const size_t len = static_cast<size_t>(static_cast<const char*>(nl) - start);
      ++line_no_;
      if (too_long || long_.size() + len > max_line_) {
        begin_ += len + 1;
        return Got::kTooLong;
      }
      if (!long_.empty()) {
        long_.append(start, len);
        begin_ += len + 1;
        *line = long_;
        return Got::kLine;
      }
      *line = std::string_view(start, len);
      begin_ += len + 1;
      return Got::kLine;
    }
    if (eof_) {
      if (begin_ == end_ && long_.empty() && !too_long) return Got::kEnd;
      ++line_no_;
      unterminated_ = true;
      const size_t len = end_ - begin_;
      if (too_long || long_.size() + len > max_line_) {
        begin_ = end_;
        return Got::kTooLong;
      }
      long_.append(start, len);
      begin_ = end_;
      *line = long_;
      return Got::kLine;
    }
    // No newline in the buffer: keep what we have (unless the line is already too long) and
    // read more.
    if (begin_ == 0 && end_ == buf_.size()) {
      if (!too_long) {
        if (long_.size() + (end_ - begin_) > max_line_) {
          too_long = true;
          long_.clear();
        } else {
          long_.append(start, end_ - begin_);
        }
      }
      begin_ = end_ = 0;
    }
    FLUXSCORE_RETURN_IF_ERROR(Fill());
  }
}

}  // namespace fluxscore::dns

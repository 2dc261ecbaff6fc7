// The per-format readers behind ReadLog (include/fluxscore/dns/ingest.h).
#pragma once

#include "dns/ingest/stream.h"
#include "fluxscore/dns/ingest.h"

namespace fluxscore::dns {

// The next line for a line-based reader, without a trailing '\r'. Reports progress every 65,536
// lines and at the end; an over-long line is counted as a read and rejected record and returned
// as kTooLong (the caller skips it). kEnd at the end of the input.
Result<LineReader::Got> NextLogLine(LineReader& lines, ByteStream& in, IngestStats& stats,
                                    const ProgressFn& progress, std::string_view* line);

// NextLogLine's common case, inline: a whole line already buffered (LineReader::NextBuffered),
// with the same progress reports and '\r' removal. False, with nothing consumed, otherwise:
// then call NextLogLine.
inline bool NextLogLineBuffered(LineReader& lines, ByteStream& in, const ProgressFn& progress,
                                std::string_view* line) {
  if (!lines.NextBuffered(line)) return false;
  if (progress && (lines.line_no() & 0xFFFF) == 0) progress(in.raw_offset(), in.raw_size());
  if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
  return true;
}

Status ReadZeekTsv(ByteStream& in, RecordSink& sink, IngestStats& stats, const ProgressFn& progress);
Status ReadZeekJson(ByteStream& in, RecordSink& sink, IngestStats& stats, const ProgressFn& progress);
Status ReadPassiveDns(ByteStream& in, RecordSink& sink, IngestStats& stats, const ProgressFn& progress);

}  // namespace fluxscore::dns

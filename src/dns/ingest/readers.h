// The per-format readers behind ReadLog (include/fluxscore/dns/ingest.h).
#pragma once

#include "dns/ingest/stream.h"
#include "fluxscore/dns/ingest.h"

namespace fluxscore::dns {

Status ReadZeekTsv(ByteStream& in, RecordSink& sink, IngestStats& stats, const ProgressFn& progress);
Status ReadZeekJson(ByteStream& in, RecordSink& sink, IngestStats& stats, const ProgressFn& progress);
Status ReadPassiveDns(ByteStream& in, RecordSink& sink, IngestStats& stats, const ProgressFn& progress);

}  // namespace fluxscore::dns

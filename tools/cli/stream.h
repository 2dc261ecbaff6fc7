// `fluxscore score --stream`: record-at-a-time scoring for pipes (Spark RDD.pipe, Hadoop
// Streaming, shell pipelines). See docs/streaming.md.
//
// Input is read with read(2) as it arrives; every complete record in hand is scored (in
// micro-batches of at most kStreamBatchRows) and its results are written and flushed before the
// next read, so a reader downstream never waits for input that the producer has not sent yet.
// A bad record yields one output row with the error column set; the stream goes on.
#pragma once

#include <cstddef>

#include "commands.h"
#include "fluxscore/pmml/model.h"

namespace fluxscore::cli {

inline constexpr size_t kStreamBatchRows = 4096;

// Runs the streaming scorer with an already loaded model. Returns the exit status.
int RunScoreStream(const ScoreArgs& args, const pmml::Model& model);

}  // namespace fluxscore::cli

#include "fluxscore/status.h"

namespace fluxscore {

std::string Status::ToString() const {
  const char* name = "OK";
  switch (code_) {
    case Code::kOk: return "OK";
    case Code::kInvalidModel: name = "Invalid model"; break;
    case Code::kUnsupported: name = "Unsupported"; break;
    case Code::kIoError: name = "I/O error"; break;
    case Code::kDataError: name = "Data error"; break;
    case Code::kInvalidArgument: name = "Invalid argument"; break;
  }
  return std::string(name) + ": " + message_;
}

}  // namespace fluxscore

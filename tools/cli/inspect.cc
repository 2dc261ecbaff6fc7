// `fluxscore inspect`: describe a model, or say precisely what in it is unsupported.
#include <fmt/format.h>

#include "commands.h"
#include "fluxscore/pmml/model.h"

namespace fluxscore::cli {

int RunInspect(const InspectArgs& args) {
  auto model = pmml::Model::LoadFile(args.model);
  if (!model.ok()) {
    const Status& s = model.status();
    if (s.code() == Status::Code::kUnsupported) {
      fmt::print("unsupported: {}\n", s.message());
      // Loading stopped at the first; list every unsupported element of the document.
      auto all = pmml::ListUnsupportedElements(args.model);
      if (all.ok()) {
        for (const std::string& m : *all)
          if (s.message().find(m.substr(0, m.find(": <"))) == std::string::npos)
            fmt::print("unsupported: {}\n", m);
      }
    } else {
      fmt::print(stderr, "fluxscore: {}\n", s.ToString());
    }
    return 2;
  }
  fmt::print("{}", model->Describe());
  fmt::print("supported: yes (every element and attribute of this document is implemented)\n");
  return 0;
}

}  // namespace fluxscore::cli

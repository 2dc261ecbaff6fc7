// Reading a PMML document safely: size limits, no DTD/entities, namespace check, and helpers that
// name an element by path and source line for error messages.
// The pugixml DOM is the parse tree the compiler walks; it is discarded after compilation.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <pugixml.hpp>

#include "fluxscore/pmml/model.h"
#include "fluxscore/status.h"

namespace fluxscore::pmml {

class Document {
 public:
  // Parses `xml` (copied). Refuses a DOCTYPE (and so entity declarations), a root other than
  // PMML, a namespace that is not PMML 3.0-4.4, and attributes above the size limit.
  static Result<std::unique_ptr<Document>> Parse(std::string xml, std::string source,
                                                 const LoadOptions& options);
  // Reads a file, or a zip member given as "archive.zip!member".
  static Result<std::string> ReadSource(const std::string& path);

  pugi::xml_node root() const { return root_; }
  const std::string& source() const { return source_; }
  const std::string& version() const { return version_; }

  // "/PMML/TreeModel/Node[3]/SimplePredicate" (1-based index among same-named siblings, shown
  // when there are several).
  std::string PathOf(pugi::xml_node node) const;
  // 1-based source line of the element's start.
  int LineOf(pugi::xml_node node) const;
  // "file.pmml:12: /PMML/TreeModel/Node[2]: " prefix for messages.
  std::string Where(pugi::xml_node node) const;

  // Element name without namespace prefix.
  static std::string_view LocalName(pugi::xml_node node) {
    std::string_view n = node.name();
    auto colon = n.find(':');
    return colon == std::string_view::npos ? n : n.substr(colon + 1);
  }

 private:
  Document() = default;
  std::string text_;
  std::string source_;
  std::string version_;
  pugi::xml_document doc_;
  pugi::xml_node root_;
  int LineAt(size_t offset) const;
};

}  // namespace fluxscore::pmml

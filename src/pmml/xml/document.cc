#include "pmml/xml/document.h"

#include <zip.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace fluxscore::pmml {
namespace {

bool KnownNamespace(std::string_view ns) {
  static const char* kKnown[] = {
      "http://www.dmg.org/PMML-3_0", "http://www.dmg.org/PMML-3_1", "http://www.dmg.org/PMML-3_2",
      "http://www.dmg.org/PMML-4_0", "http://www.dmg.org/PMML-4_1", "http://www.dmg.org/PMML-4_2",
      "http://www.dmg.org/PMML-4_3", "http://www.dmg.org/PMML-4_4"};
  for (const char* k : kKnown)
    if (ns == k) return true;
  return false;
}

Result<std::string> ReadZipMember(const std::string& archive, const std::string& member) {
  int err = 0;
  zip_t* z = zip_open(archive.c_str(), ZIP_RDONLY, &err);
  if (z == nullptr) return Status::IoError(fmt::format("cannot open zip archive '{}'", archive));
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat(z, member.c_str(), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE)) {
    zip_close(z);
    return Status::IoError(fmt::format("no member '{}' in zip archive '{}'", member, archive));
  }
  zip_file_t* f = zip_fopen(z, member.c_str(), 0);
  if (f == nullptr) {
    zip_close(z);
    return Status::IoError(fmt::format("cannot open member '{}' of '{}'", member, archive));
  }
  std::string data(static_cast<size_t>(st.size), '\0');
  zip_int64_t got = zip_fread(f, data.data(), st.size);
  zip_fclose(f);
  zip_close(z);
  if (got < 0 || static_cast<zip_uint64_t>(got) != st.size)
    return Status::IoError(fmt::format("cannot read member '{}' of '{}'", member, archive));
  return data;
}

// True when no attribute value of this UTF-8 document can be longer than `limit` bytes, judged
// from the text in a few probes instead of a walk over every attribute of the tree. A value is
// at most as long as its source text (entities and line ends only shrink in UTF-8), and that
// text holds no copy of its quote character; so with no quote character q in the document, or
// a q in every stretch of limit / 2 bytes (any run without q longer than `limit` would contain
// such a stretch whole), no value quoted by q exceeds the limit.
bool ValuesWithin(std::string_view text, size_t limit) {
  const size_t chunk = limit / 2;
  if (chunk == 0) return false;
  for (const char q : {'"', '\''}) {
    if (std::memchr(text.data(), q, text.size()) == nullptr) continue;
    for (size_t at = 0; at + chunk <= text.size(); at += chunk)
      if (std::memchr(text.data() + at, q, chunk) == nullptr) return false;
  }
  return true;
}

}  // namespace

Result<std::string> Document::ReadSource(const std::string& path) {
  auto bang = path.find(".zip!");
  if (bang != std::string::npos) return ReadZipMember(path.substr(0, bang + 4), path.substr(bang + 5));
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(fmt::format("cannot open '{}'", path));
  // A regular file is read in one go into a string of its size (tens of megabytes for a large
  // forest: no stream buffer copies, no regrowth); anything else (a pipe) is read to its end.
  std::error_code ec;
  const auto size = std::filesystem::is_regular_file(path, ec) && !ec
                        ? std::filesystem::file_size(path, ec)
                        : static_cast<std::uintmax_t>(-1);
  if (!ec && size != static_cast<std::uintmax_t>(-1)) {
    std::string data(static_cast<size_t>(size), '\0');
    in.read(data.data(), static_cast<std::streamsize>(size));
    if (in.bad()) return Status::IoError(fmt::format("cannot read '{}'", path));
    data.resize(static_cast<size_t>(in.gcount()));  // it shrank meanwhile
    if (in.peek() == std::char_traits<char>::eof()) return data;
    std::ostringstream rest;  // it grew meanwhile: the rest too
    rest << in.rdbuf();
    if (in.bad()) return Status::IoError(fmt::format("cannot read '{}'", path));
    return data + std::move(rest).str();
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IoError(fmt::format("cannot read '{}'", path));
  return std::move(ss).str();
}

Result<std::unique_ptr<Document>> Document::Parse(std::string xml, std::string source,
                                                  const LoadOptions& options) {
  std::unique_ptr<Document> d(new Document());
  d->source_ = std::move(source);
  if (xml.size() > options.max_document_bytes)
    return Status::InvalidModel(fmt::format("{}: document of {} bytes exceeds the limit of {}",
                                            d->source_, xml.size(), options.max_document_bytes));
  d->text_ = std::move(xml);

  unsigned flags = pugi::parse_default | pugi::parse_doctype;
  pugi::xml_parse_result r =
      d->doc_.load_buffer(d->text_.data(), d->text_.size(), flags, pugi::encoding_auto);
  if (!r) {
    auto off = static_cast<size_t>(std::max<ptrdiff_t>(0, r.offset));
    int line = d->LineAt(off);
    return Status::InvalidModel(
        fmt::format("{}:{}: malformed XML: {}", d->source_, line, r.description()));
  }
  for (pugi::xml_node n = d->doc_.first_child(); n; n = n.next_sibling()) {
    if (n.type() == pugi::node_doctype)
      return Status::InvalidModel(fmt::format(
          "{}:{}: document type declarations (DOCTYPE/ENTITY) are refused", d->source_,
          d->LineOf(n)));
    if (n.type() == pugi::node_element) {
      if (d->root_)
        return Status::InvalidModel(fmt::format("{}: more than one root element", d->source_));
      d->root_ = n;
    }
  }
  if (!d->root_) return Status::InvalidModel(fmt::format("{}: no root element", d->source_));
  pugi::xml_node root = d->root_;
  if (LocalName(root) != "PMML")
    return Status::InvalidModel(fmt::format("{}:{}: root element is <{}>, expected <PMML>",
                                            d->source_, d->LineOf(root), root.name()));
  // The namespace bound to the root's prefix (or the default namespace).
  std::string_view name = root.name();
  auto colon = name.find(':');
  std::string ns_attr =
      colon == std::string_view::npos ? "xmlns" : "xmlns:" + std::string(name.substr(0, colon));
  pugi::xml_attribute ns = root.attribute(ns_attr.c_str());
  if (ns && !KnownNamespace(ns.value()))
    return Status::InvalidModel(fmt::format(
        "{}:{}: /PMML: namespace '{}' is not a PMML 3.0-4.4 namespace", d->source_,
        d->LineOf(root), ns.value()));
  if (!ns && colon != std::string_view::npos)
    return Status::InvalidModel(fmt::format("{}:{}: /PMML: undeclared namespace prefix",
                                            d->source_, d->LineOf(root)));
  d->version_ = root.attribute("version").value();

  // Attribute size limit, checked iteratively (documents may nest very deeply). A value holds at
  // most twice as many UTF-8 bytes as the document has bytes (Latin-1 and UTF-16 text widen by
  // up to 2x and 1.5x; entities only shrink), so a document within half the limit needs no walk.
  if (d->text_.size() <= options.max_attribute_bytes / 2) return d;
  if (r.encoding == pugi::encoding_utf8 && ValuesWithin(d->text_, options.max_attribute_bytes))
    return d;
  for (pugi::xml_node n = root; n;) {
    for (pugi::xml_attribute a = n.first_attribute(); a; a = a.next_attribute()) {
      size_t len = std::char_traits<char>::length(a.value());
      if (len > options.max_attribute_bytes)
        return Status::InvalidModel(fmt::format(
            "{}attribute '{}' is {} bytes, above the limit of {}", d->Where(n), a.name(), len,
            options.max_attribute_bytes));
    }
    if (pugi::xml_node c = n.first_child()) {
      n = c;
      continue;
    }
    while (n && n != root && !n.next_sibling()) n = n.parent();
    if (!n || n == root) break;
    n = n.next_sibling();
  }
  return d;
}

// Lines are counted only when a message needs one (errors), not on every load.
int Document::LineAt(size_t offset) const {
  offset = std::min(offset, text_.size());
  return 1 + static_cast<int>(std::count(text_.begin(), text_.begin() + static_cast<long>(offset), '\n'));
}

int Document::LineOf(pugi::xml_node node) const {
  ptrdiff_t off = node.offset_debug();
  if (off < 0) return 0;
  return LineAt(static_cast<size_t>(off));
}

std::string Document::PathOf(pugi::xml_node node) const {
  std::vector<std::string> parts;
  for (pugi::xml_node n = node; n && n.type() == pugi::node_element; n = n.parent()) {
    std::string_view local = LocalName(n);
    std::string part(local);
    pugi::xml_node parent = n.parent();
    if (parent && parent.type() == pugi::node_element) {
      int index = 0, count = 0;
      for (pugi::xml_node s = parent.first_child(); s; s = s.next_sibling()) {
        if (s.type() != pugi::node_element || LocalName(s) != local) continue;
        ++count;
        if (s == n) index = count;
        if (count > 1 && index) break;
      }
      if (count > 1) part.append("[").append(std::to_string(index)).append("]");
    }
    parts.push_back(std::move(part));
    if (parts.size() > 64) {  // very deep trees: keep messages readable
      parts.push_back("...");
      break;
    }
  }
  std::string out;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) out += "/" + *it;
  return out;
}

std::string Document::Where(pugi::xml_node node) const {
  return fmt::format("{}:{}: {}: ", source_, LineOf(node), PathOf(node));
}

}  // namespace fluxscore::pmml

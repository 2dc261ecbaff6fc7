// Column / Table helpers and FormatDouble (see include/fluxscore/table.h).
#include "fluxscore/table.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>

namespace fluxscore {

Column Column::Numeric(std::string name, std::vector<double> values) {
  Column c;
  c.name_ = std::move(name);
  c.kind_ = Kind::kNumeric;
  c.numbers_ = std::move(values);
  return c;
}

Column Column::String(std::string name) {
  Column c;
  c.name_ = std::move(name);
  c.kind_ = Kind::kString;
  return c;
}

Column Column::NumericView(std::string name, const double* data, size_t size) {
  Column c;
  c.name_ = std::move(name);
  c.kind_ = Kind::kNumeric;
  if (size > 0) {
    c.view_ = data;
    c.view_size_ = size;
  }
  return c;
}

Column Column::NumericView(std::string name, const double* data, size_t size,
                           std::shared_ptr<const void> owner) {
  Column c = NumericView(std::move(name), data, size);
  if (size > 0) c.owner_ = std::move(owner);
  return c;
}

Column Column::Float32View(std::string name, const float* data, size_t size) {
  Column c;
  c.name_ = std::move(name);
  c.kind_ = Kind::kFloat32;
  if (size > 0) {
    c.f32_ = data;
    c.view_size_ = size;
  }
  return c;
}

void Column::Own() {
  if (kind_ == Kind::kFloat32) {
    numbers_.assign(f32_, f32_ + view_size_);  // widening is exact
    kind_ = Kind::kNumeric;
    f32_ = nullptr;
    view_size_ = 0;
    return;
  }
  if (view_ == nullptr) return;
  numbers_.assign(view_, view_ + view_size_);
  view_ = nullptr;
  view_size_ = 0;
  owner_.reset();
}

std::vector<double>& Column::mutable_numbers() {
  Own();
  return numbers_;
}

int32_t Column::Intern(std::string_view s) {
  // std::string construction is allocation-free for short strings (SSO), which covers most
  // categorical values; the map has no transparent hash, so a key object is needed.
  auto [it, inserted] = index_.try_emplace(std::string(s), static_cast<int32_t>(dictionary_.size()));
  if (inserted) dictionary_.emplace_back(s);
  return it->second;
}

void Column::AppendString(std::string_view s) {
  if (kind_ == Kind::kString) {
    codes_.push_back(Intern(s));
    return;
  }
  // A numeric column given text: store the parsed number, or missing when it is not a number.
  double v = std::numeric_limits<double>::quiet_NaN();
  const char* first = s.data();
  const char* last = s.data() + s.size();
  if (first != last && *first == '+') ++first;
  double parsed = 0;
  auto res = std::from_chars(first, last, parsed);
  if (res.ec == std::errc() && res.ptr == last) v = parsed;
  Own();
  numbers_.push_back(v);
}

void Column::AppendMissing() {
  if (kind_ != Kind::kString) {
    Own();
    numbers_.push_back(std::numeric_limits<double>::quiet_NaN());
  } else {
    codes_.push_back(kMissingCode);
  }
}

std::string Column::CellText(size_t row) const {
  if (kind_ != Kind::kString) {
    double v = NumberAt(row);
    if (std::isnan(v)) return std::string();
    return FormatDouble(v);
  }
  int32_t code = codes_[row];
  if (code < 0 || static_cast<size_t>(code) >= dictionary_.size()) return std::string();
  return dictionary_[static_cast<size_t>(code)];
}

int Table::Find(std::string_view name) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name() == name) return static_cast<int>(i);
  }
  return -1;
}

std::string FormatDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  std::to_chars_result res;
  if (v == std::trunc(v) && std::fabs(v) < 1e15) {
    // Integral: plain digits, no ".0" and no exponent ("3", "100000000000000", "-0").
    res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  } else {
    res = std::to_chars(buf, buf + sizeof(buf), v);  // shortest round-trip
  }
  return std::string(buf, res.ptr);
}

}  // namespace fluxscore

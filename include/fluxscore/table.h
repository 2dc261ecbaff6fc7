// Column-oriented tables: the input and output format of batch scoring.
//
// A Column is either numeric (double, NaN = missing), float32 (a borrowed float array, NaN =
// missing; read as doubles, which is exact) or string (dictionary encoded: int32 codes into
// `dictionary`, kMissingCode = missing). Dictionary encoding keeps string handling off the
// per-row path: the engine maps each distinct dictionary entry to the model's interned codes once
// per batch, then works on integers.
// Thread safety: a const Table may be read from many threads.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace fluxscore {

class Column {
 public:
  enum class Kind { kNumeric, kString, kFloat32 };
  static constexpr int32_t kMissingCode = -1;

  static Column Numeric(std::string name, std::vector<double> values = {});
  static Column String(std::string name);
  // A numeric column over memory it does not own (zero copy, e.g. a NumPy float64 array). The
  // memory must stay valid and unchanged while the column, its copies, or a Table holding them
  // is in use. Appending to the column or mutable_numbers() first copies it into owned storage.
  static Column NumericView(std::string name, const double* data, size_t size);
  // A numeric column over memory that `owner` keeps alive (the column and its copies share it):
  // zero copy like NumericView, with no lifetime rule for the caller. Model::Score returns its
  // numeric output columns this way (storage it allocates without zero-filling it).
  static Column NumericView(std::string name, const double* data, size_t size,
                            std::shared_ptr<const void> owner);
  // A float32 column over memory it does not own (zero copy, e.g. a NumPy float32 array), with
  // NumericView's lifetime rules. Its values are numbers (NumberAt widens them to double, which
  // is exact); numbers() is empty for it. Scoring reads float32 fields straight from it, half
  // the bytes of a double column. Appending to it or mutable_numbers() first turns it into an
  // owned numeric (double) column.
  static Column Float32View(std::string name, const float* data, size_t size);

  const std::string& name() const { return name_; }
  Kind kind() const { return kind_; }
  size_t size() const {
    return kind_ == Kind::kNumeric   ? (view_ != nullptr ? view_size_ : numbers_.size())
           : kind_ == Kind::kFloat32 ? view_size_
                                     : codes_.size();
  }
  // Numeric or float32.
  bool is_number() const { return kind_ != Kind::kString; }

  // Numeric columns.
  std::span<const double> numbers() const {
    return view_ != nullptr ? std::span<const double>(view_, view_size_)
                            : std::span<const double>(numbers_);
  }
  std::vector<double>& mutable_numbers();
  bool is_view() const { return view_ != nullptr || f32_ != nullptr; }
  // What keeps a view's memory alive (null for a borrowed view and for owned columns).
  const std::shared_ptr<const void>& view_owner() const { return owner_; }
  // Float32 columns.
  std::span<const float> floats() const { return std::span<const float>(f32_, f32_ ? view_size_ : 0); }
  // The value of a numeric or float32 cell, as a double.
  double NumberAt(size_t row) const {
    return kind_ == Kind::kFloat32 ? static_cast<double>(f32_[row]) : numbers()[row];
  }

  // String columns.
  const std::vector<int32_t>& codes() const { return codes_; }
  std::vector<int32_t>& mutable_codes() { return codes_; }
  const std::vector<std::string>& dictionary() const { return dictionary_; }
  // Appends a string cell (interning it); AppendMissing appends a missing cell of either kind.
  void AppendString(std::string_view s);
  void AppendMissing();
  // Interns s into the dictionary, returning its code.
  int32_t Intern(std::string_view s);

  bool IsMissing(size_t row) const {
    return kind_ == Kind::kString ? codes_[row] < 0 : std::isnan(NumberAt(row));
  }
  // The cell as text ("" when missing); numbers in shortest round-trip form.
  std::string CellText(size_t row) const;

 private:
  std::string name_;
  Kind kind_ = Kind::kNumeric;
  void Own();  // a view becomes owned storage (a float32 view: owned doubles, kNumeric)
  std::vector<double> numbers_;
  const double* view_ = nullptr;  // NumericView: borrowed cells (numbers_ unused)
  const float* f32_ = nullptr;    // Float32View: borrowed cells
  size_t view_size_ = 0;          // cells of either view
  std::shared_ptr<const void> owner_;  // keeps view_'s memory alive, if set
  std::vector<int32_t> codes_;
  std::vector<std::string> dictionary_;
  std::unordered_map<std::string, int32_t> index_;
};

class Table {
 public:
  size_t num_rows() const { return columns_.empty() ? 0 : columns_.front().size(); }
  size_t num_columns() const { return columns_.size(); }
  const std::vector<Column>& columns() const { return columns_; }
  std::vector<Column>& mutable_columns() { return columns_; }
  Column& AddColumn(Column c) {
    columns_.push_back(std::move(c));
    return columns_.back();
  }
  // Index of the first column with this name, or -1.
  int Find(std::string_view name) const;

 private:
  std::vector<Column> columns_;
};

// Formats a double in the shortest form that parses back to the same value ("1.5", "3", "1e-07").
std::string FormatDouble(double v);

}  // namespace fluxscore

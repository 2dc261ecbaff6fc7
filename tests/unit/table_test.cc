// Column::NumericView: zero-copy numeric columns behave exactly like owned ones.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "fluxscore/table.h"
#include "test_util.h"

namespace fluxscore::testing {
namespace {

TEST(TableTest, NumericViewReadsBorrowedMemory) {
  std::vector<double> data = {1.5, NAN, -2};
  Column v = Column::NumericView("x", data.data(), data.size());
  EXPECT_TRUE(v.is_view());
  EXPECT_EQ(v.size(), 3u);
  EXPECT_EQ(v.numbers().data(), data.data());  // no copy
  EXPECT_FALSE(v.IsMissing(0));
  EXPECT_TRUE(v.IsMissing(1));
  EXPECT_EQ(v.CellText(2), "-2");
  // Appending or asking for mutable storage copies first; the borrowed memory is untouched.
  v.AppendMissing();
  EXPECT_FALSE(v.is_view());
  EXPECT_EQ(v.size(), 4u);
  v.mutable_numbers()[0] = 9;
  EXPECT_EQ(data[0], 1.5);
  EXPECT_EQ(v.numbers()[0], 9);
  Column empty = Column::NumericView("e", nullptr, 0);
  EXPECT_EQ(empty.size(), 0u);
}

TEST(TableTest, NumericViewWithAnOwnerKeepsItsMemoryAlive) {
  auto storage = std::make_shared<std::vector<double>>(std::vector<double>{0.5, NAN, 3});
  const double* cells = storage->data();
  Column v = Column::NumericView("x", cells, storage->size(),
                                 std::shared_ptr<const void>(storage, storage->data()));
  storage.reset();  // the column (and its copies) own the memory now
  Column copy = v;
  EXPECT_TRUE(v.is_view());
  EXPECT_NE(v.view_owner(), nullptr);
  EXPECT_EQ(copy.numbers().data(), cells);  // shared, not copied
  EXPECT_EQ(copy.view_owner().use_count(), 2);
  EXPECT_TRUE(copy.IsMissing(1));
  EXPECT_EQ(copy.CellText(2), "3");
  // Mutable storage is an owned copy; the view's memory is let go by this column only.
  copy.mutable_numbers()[0] = 7;
  EXPECT_FALSE(copy.is_view());
  EXPECT_EQ(copy.view_owner(), nullptr);
  EXPECT_EQ(v.view_owner().use_count(), 1);
  EXPECT_EQ(v.numbers()[0], 0.5);
  EXPECT_EQ(copy.numbers()[0], 7);
}

TEST(TableTest, Float32ViewReadsBorrowedFloats) {
  std::vector<float> data = {1.5f, NAN, -2.25f, 0.1f};
  Column v = Column::Float32View("x", data.data(), data.size());
  EXPECT_EQ(v.kind(), Column::Kind::kFloat32);
  EXPECT_TRUE(v.is_number());
  EXPECT_TRUE(v.is_view());
  EXPECT_EQ(v.size(), 4u);
  EXPECT_EQ(v.floats().data(), data.data());
  EXPECT_TRUE(v.numbers().empty());
  EXPECT_EQ(v.NumberAt(0), 1.5);
  EXPECT_EQ(v.NumberAt(3), static_cast<double>(0.1f));
  EXPECT_TRUE(v.IsMissing(1));
  EXPECT_FALSE(v.IsMissing(2));
  EXPECT_EQ(v.CellText(2), "-2.25");
  EXPECT_EQ(v.CellText(1), "");
  // Appending turns it into an owned double column with the same values.
  Column w = v;
  w.AppendMissing();
  EXPECT_EQ(w.kind(), Column::Kind::kNumeric);
  EXPECT_FALSE(w.is_view());
  ASSERT_EQ(w.size(), 5u);
  EXPECT_EQ(w.numbers()[3], static_cast<double>(0.1f));
  EXPECT_TRUE(std::isnan(w.numbers()[4]));
  EXPECT_EQ(v.kind(), Column::Kind::kFloat32);  // the copy changed, not the original
  Column e = Column::Float32View("e", nullptr, 0);
  EXPECT_EQ(e.size(), 0u);
}

TEST(TableTest, ScoringAViewEqualsScoringACopy) {
  Model m = MustLoad(Doc(
      "<DataField name=\"x\" optype=\"continuous\" dataType=\"double\"/>"
      "<DataField name=\"y\" optype=\"continuous\" dataType=\"double\"/>",
      "<RegressionModel functionName=\"regression\"><MiningSchema><MiningField name=\"x\"/>"
      "<MiningField name=\"y\" usageType=\"target\"/></MiningSchema>"
      "<RegressionTable intercept=\"0.5\"><NumericPredictor name=\"x\" coefficient=\"3\"/>"
      "</RegressionTable></RegressionModel>"));
  std::vector<double> x(10000);
  for (size_t i = 0; i < x.size(); ++i) x[i] = i % 7 == 0 ? NAN : 0.25 * static_cast<double>(i);
  Table owned, view;
  owned.AddColumn(Column::Numeric("x", x));
  view.AddColumn(Column::NumericView("x", x.data(), x.size()));
  auto a = m.Score(owned, {.threads = 2});
  auto b = m.Score(view, {.threads = 2});
  ASSERT_TRUE(a.ok() && b.ok());
  const auto ya = a->outputs.columns()[0].numbers(), yb = b->outputs.columns()[0].numbers();
  ASSERT_EQ(ya.size(), yb.size());
  for (size_t i = 0; i < ya.size(); ++i) {
    if (std::isnan(ya[i])) {
      EXPECT_TRUE(std::isnan(yb[i])) << i;
    } else {
      EXPECT_EQ(ya[i], yb[i]) << i;
    }
  }
}

}  // namespace
}  // namespace fluxscore::testing

// The host-side grouping of a mixture-of-experts step by expert (backend/expert_groups.hpp),
// which the CUDA backend's matmul_experts runs before its per-expert matmuls.
#include <doctest/doctest.h>

#include <set>

#include "backend/expert_groups.hpp"
#include "ollm/error.hpp"

using ollm::backend::plan_expert_groups;

TEST_CASE("expert groups: every (row, slot) pair once, grouped by expert in row order") {
  // 4 rows x 2 selected of 5 experts; expert 4 unused, expert 3 chosen by rows 0, 2 and 3.
  const std::vector<int32_t> ids{3, 0, 1, 0, 3, 2, 0, 3};
  const auto plan = plan_expert_groups(ids, 4, 2, 5);
  REQUIRE(plan.groups.size() == 4);
  const int32_t experts[] = {0, 1, 2, 3};
  const int64_t firsts[] = {0, 3, 4, 5}, counts[] = {3, 1, 1, 3};
  for (size_t g = 0; g < 4; ++g) {
    CAPTURE(g);
    CHECK(plan.groups[g].expert == experts[g]);
    CHECK(plan.groups[g].first == firsts[g]);
    CHECK(plan.groups[g].count == counts[g]);
  }
  CHECK(plan.input_rows == std::vector<int32_t>{0, 1, 3, 1, 2, 0, 2, 3});
  CHECK(plan.output_rows == std::vector<int32_t>{1, 3, 6, 2, 5, 0, 4, 7});
  // Each pair's output row names the pair, and its expert is the group's.
  std::set<int32_t> outputs(plan.output_rows.begin(), plan.output_rows.end());
  CHECK(outputs.size() == ids.size());
  for (const auto& g : plan.groups)
    for (int64_t i = g.first; i < g.first + g.count; ++i) {
      CHECK(ids[static_cast<size_t>(plan.output_rows[static_cast<size_t>(i)])] == g.expert);
      CHECK(plan.input_rows[static_cast<size_t>(i)] == plan.output_rows[static_cast<size_t>(i)] / 2);
    }
}

TEST_CASE("expert groups: an expert id outside the layer is an error naming the row") {
  const std::vector<int32_t> ids{0, 7};
  CHECK_THROWS_WITH_AS(plan_expert_groups(ids, 1, 2, 4), "[moe] row 0 selects expert 7 of a layer with 4 experts",
                       ollm::Error);
  const std::vector<int32_t> negative{-1};
  CHECK_THROWS_AS(plan_expert_groups(negative, 1, 1, 4), ollm::Error);
  CHECK_THROWS_AS(plan_expert_groups(ids, 3, 2, 4), ollm::Error);  // wrong count
}

// Counting sort of (row, slot) pairs by expert (expert_groups.hpp).
#include "backend/expert_groups.hpp"

#include "util/fail.hpp"

namespace ollm::backend {

ExpertPlan plan_expert_groups(std::span<const int32_t> ids, int64_t m, int64_t n_sel, int64_t n_experts) {
  const int64_t pairs = m * n_sel;
  if (m < 0 || n_sel <= 0 || n_experts <= 0 || static_cast<int64_t>(ids.size()) != pairs || pairs > INT32_MAX)
    fail(ErrorCode::internal, "[moe] expert plan for {} rows x {} selected of {} experts over {} ids", m, n_sel,
         n_experts, ids.size());
  std::vector<int64_t> count(static_cast<size_t>(n_experts) + 1, 0);
  for (int64_t p = 0; p < pairs; ++p) {
    const int32_t e = ids[static_cast<size_t>(p)];
    if (e < 0 || e >= n_experts)
      fail(ErrorCode::internal, "[moe] row {} selects expert {} of a layer with {} experts", p / n_sel, e, n_experts);
    ++count[static_cast<size_t>(e) + 1];
  }
  ExpertPlan plan;
  for (int64_t e = 0; e < n_experts; ++e) {
    const int64_t c = count[static_cast<size_t>(e) + 1];
    if (c > 0) plan.groups.push_back({static_cast<int32_t>(e), count[static_cast<size_t>(e)], c});
    count[static_cast<size_t>(e) + 1] += count[static_cast<size_t>(e)];  // prefix sums: group starts
  }
  plan.input_rows.resize(static_cast<size_t>(pairs));
  plan.output_rows.resize(static_cast<size_t>(pairs));
  for (int64_t p = 0; p < pairs; ++p) {
    const size_t at = static_cast<size_t>(count[static_cast<size_t>(ids[static_cast<size_t>(p)])]++);
    plan.input_rows[at] = static_cast<int32_t>(p / n_sel);
    plan.output_rows[at] = static_cast<int32_t>(p);
  }
  return plan;
}

}  // namespace ollm::backend

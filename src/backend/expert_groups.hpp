// Grouping a mixture-of-experts step by expert, for backends that run each expert's rows as one
// matmul (CUDA: gather the rows, one matmul per selected expert, scatter the results). Host code
// with no device dependency, so it is unit-tested everywhere.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace ollm::backend {

struct ExpertGroup {
  int32_t expert = 0;
  int64_t first = 0;  // its pairs are [first, first + count) of the plan's arrays
  int64_t count = 0;
};

// Pair (r, j) of ids: [m, n_sel] reads input row r and writes output row r * n_sel + j. The plan
// lists every pair grouped by expert (ascending), in row order within a group.
struct ExpertPlan {
  std::vector<int32_t> input_rows;   // [m * n_sel]
  std::vector<int32_t> output_rows;  // [m * n_sel]
  std::vector<ExpertGroup> groups;   // the experts that have at least one pair
};

// Throws Error(internal) naming the pair when an id is outside [0, n_experts) (the router wrote
// it: a bug or a device fault, never user input).
ExpertPlan plan_expert_groups(std::span<const int32_t> ids, int64_t m, int64_t n_sel, int64_t n_experts);

}  // namespace ollm::backend

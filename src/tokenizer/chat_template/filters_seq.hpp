// Filters over sequences that take attribute paths, tests or other filters as arguments
// (map, select/reject, selectattr/rejectattr, sort, dictsort, unique, min/max, sum, batch).
#pragma once

#include "tokenizer/chat_template/builtins.hpp"
#include "tokenizer/chat_template/evaluator.hpp"

namespace ollm::chat_template {

// jinja2's make_attrgetter: "a.b.0" walks items then attributes, digits index sequences.
Value attribute_of(Evaluator& ev, const Value& item, const Value& attribute, SourcePos pos);
FilterFn filter_function(std::string_view name);
TestFn test_function(std::string_view name);

Value f_batch(Evaluator& ev, const Value& v, const CallArgs& a);
Value f_dictsort(Evaluator& ev, const Value& v, const CallArgs& a);
Value f_map(Evaluator& ev, const Value& v, const CallArgs& a);
Value f_max(Evaluator& ev, const Value& v, const CallArgs& a);
Value f_min(Evaluator& ev, const Value& v, const CallArgs& a);
Value f_reject(Evaluator& ev, const Value& v, const CallArgs& a);
Value f_rejectattr(Evaluator& ev, const Value& v, const CallArgs& a);
Value f_select(Evaluator& ev, const Value& v, const CallArgs& a);
Value f_selectattr(Evaluator& ev, const Value& v, const CallArgs& a);
Value f_sort(Evaluator& ev, const Value& v, const CallArgs& a);
Value f_sum(Evaluator& ev, const Value& v, const CallArgs& a);
Value f_unique(Evaluator& ev, const Value& v, const CallArgs& a);

}  // namespace ollm::chat_template

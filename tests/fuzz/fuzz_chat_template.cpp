// libFuzzer target: arbitrary bytes as a chat template, parsed and rendered with a small fixed
// conversation (tools, tool calls, reasoning). Only ollm::Error may escape the library.
#include <cstddef>
#include <cstdint>
#include <string>

#include "ollm/chat_template.hpp"
#include "ollm/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ollm::ChatRequest request = [] {
    ollm::ChatRequest r;
    r.messages_json = R"([
      {"role": "system", "content": "You are terse."},
      {"role": "user", "content": "Weather in Paris? 👋"},
      {"role": "assistant", "content": "", "reasoning_content": "call the tool",
       "tool_calls": [{"id": "call12345", "type": "function",
                       "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
      {"role": "tool", "tool_call_id": "call12345", "content": "18C"},
      {"role": "user", "content": [{"type": "text", "text": "thanks"}, {"type": "image"}]}])";
    r.tools_json = R"([{"type": "function", "function": {"name": "get_weather", "description": "d",
      "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])";
    r.extra_variables_json = R"({"enable_thinking": false, "reasoning_effort": "low"})";
    r.bos_token = "<s>";
    r.eos_token = "</s>";
    std::tm now{};
    now.tm_year = 125;
    now.tm_mday = 1;
    r.now = now;
    // Small engine limits keep every input fast and small, so that what scripts/run-fuzzers.sh
    // reports for this target (-timeout=5, -malloc_limit_mb=256, -rss_limit_mb=2048) is a missing
    // bound in the engine, never a slow but bounded input: 1 MiB of output (so at most 131,072
    // items per list), 2 million work units (~0.1 s in an ASan build), depth 32.
    r.limits.max_output_bytes = 1 << 20;
    r.limits.max_loop_iterations = 100000;
    r.limits.max_call_depth = 32;
    r.limits.max_work = 2'000'000;
    return r;
  }();
  try {
    const auto tmpl = ollm::ChatTemplate::parse(std::string(reinterpret_cast<const char*>(data), size));
    (void)tmpl.render(request);
  } catch (const ollm::Error&) {
  }
  return 0;
}

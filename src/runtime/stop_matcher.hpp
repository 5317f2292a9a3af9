// Stop strings across token boundaries: text arrives in pieces; anything that could still be
// the start of a stop string is held back until it either completes one (generation stops, the
// stop string and what follows are dropped) or can no longer match (it is released).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ollm::runtime {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops);

  // Adds generated text; returns the part that is now safe to emit.
  std::string push(std::string_view text);
  // Everything still held (call when generation ends for another reason).
  std::string flush();
  bool matched() const noexcept { return matched_; }

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  bool matched_ = false;
};

}  // namespace ollm::runtime

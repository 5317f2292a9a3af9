// Validators for the numeric options of every subcommand: each names what it expected and what it
// got ("--max-tokens: expected an integer >= 0, got '-1'"), never a conversion failure or a
// floating-point bound hundreds of digits long. They parse the whole text themselves, so a value
// that passes always converts.
#pragma once

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <string>

namespace ollm_cli {

// An integer of type T in [lo, hi] (hi = T's maximum reads as ">= lo").
template <class T>
CLI::Validator integer_in(T lo, T hi = std::numeric_limits<T>::max()) {
  const std::string range =
      hi == std::numeric_limits<T>::max() ? fmt::format(">= {}", lo) : fmt::format("in {}..{}", lo, hi);
  return CLI::Validator(
      [lo, hi, range](std::string& text) -> std::string {
        T value{};
        const char* end = text.data() + text.size();
        const auto [stop, ec] = std::from_chars(text.data(), end, value);
        if (!text.empty() && ec == std::errc() && stop == end && value >= lo && value <= hi) return {};
        return fmt::format("expected an integer {}, got '{}'", range, text);
      },
      "INT " + range, "integer");
}

enum class Bound { closed, open };

// A finite number in [lo, hi] (an open bound excludes its end; infinite ends read as one-sided).
inline CLI::Validator number_in(double lo, double hi, Bound lo_bound = Bound::closed, Bound hi_bound = Bound::closed) {
  std::string range;
  const bool has_lo = std::isfinite(lo), has_hi = std::isfinite(hi);
  if (has_lo && has_hi)
    range = fmt::format("in {}{}, {}{}", lo_bound == Bound::closed ? '[' : '(', lo, hi, hi_bound == Bound::closed ? ']' : ')');
  else if (has_lo)
    range = fmt::format("{} {}", lo_bound == Bound::closed ? ">=" : ">", lo);
  else if (has_hi)
    range = fmt::format("{} {}", hi_bound == Bound::closed ? "<=" : "<", hi);
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double value = 0;
        const char* end = text.data() + text.size();
        const auto [stop, ec] = std::from_chars(text.data(), end, value);
        bool ok = !text.empty() && ec == std::errc() && stop == end && std::isfinite(value);
        if (ok && has_lo) ok = lo_bound == Bound::closed ? value >= lo : value > lo;
        if (ok && has_hi) ok = hi_bound == Bound::closed ? value <= hi : value < hi;
        if (ok) return {};
        return fmt::format("expected a {}number{}, got '{}'", range.empty() ? "finite " : "",
                           range.empty() ? "" : " " + range, text);
      },
      range.empty() ? "NUMBER" : "NUMBER " + range, "number");
}

inline constexpr double unbounded = std::numeric_limits<double>::infinity();

// The engine's bound on compute threads (EngineOptions::threads).
inline constexpr int max_threads = 1024;

}  // namespace ollm_cli

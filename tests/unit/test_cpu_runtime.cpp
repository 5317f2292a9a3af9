// The CPU runtime: ISA variant selection (OLLM_CPU_ISA) and the persistent thread pool.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "cpu/isa.hpp"
#include "cpu/isa_probe.hpp"
#include "cpu/thread_pool.hpp"

using namespace ollm::cpu;

TEST_CASE("each compiled ISA variant is built with the flags it claims") {
  for (Isa isa : all_isas) {
    CAPTURE(isa_name(isa));
    CHECK(std::string(isa_probe(isa)) == isa_name(isa));
  }
  CHECK(isa_supported(Isa::scalar));
}

TEST_CASE("OLLM_CPU_ISA selects the variant, or the best supported one when unset") {
  const Isa isa = selected_isa();
  CHECK(isa_supported(isa));
  if (const char* forced = std::getenv("OLLM_CPU_ISA"); forced && *forced) {
    CHECK(std::string(isa_name(isa)) == forced);
  } else {
    for (Isa better : all_isas)
      if (static_cast<int>(better) > static_cast<int>(isa)) CHECK_FALSE(isa_supported(better));
  }
  CHECK(isa_from_name("avx512") == Isa::avx512);
  CHECK_FALSE(isa_from_name("neon").has_value());
}

TEST_CASE("thread pool runs every index exactly once per region, many regions in a row") {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    CHECK(pool.size() == threads);
    for (int region = 0; region < 2000; ++region) {
      const int n = 1 + region % (threads + 1);  // sometimes more than the pool has
      std::vector<std::atomic<int>> hits(static_cast<size_t>(threads));
      std::atomic<int> seen_n{-1};
      pool.run(n, [&](int index, int n_used) {
        hits[static_cast<size_t>(index)].fetch_add(1);
        seen_n.store(n_used);
      });
      const int expect_used = std::min(n, threads);
      REQUIRE(seen_n.load() == expect_used);
      for (int i = 0; i < threads; ++i) REQUIRE(hits[static_cast<size_t>(i)].load() == (i < expect_used ? 1 : 0));
    }
  }
}

TEST_CASE("parallel_for covers the range once with grain-aligned chunk starts") {
  ThreadPool pool(3);
  for (int64_t count : {0, 1, 7, 64, 1000, 1025}) {
    for (int64_t grain : {1, 4, 32}) {
      std::vector<int> covered(static_cast<size_t>(count), 0);
      std::atomic<int> bad_start{0};
      pool.parallel_for(count, 3, grain, [&](int64_t begin, int64_t end, int) {
        if (begin % grain != 0) bad_start.fetch_add(1);
        for (int64_t i = begin; i < end; ++i) covered[static_cast<size_t>(i)] += 1;
      });
      CHECK(bad_start.load() == 0);
      for (int64_t i = 0; i < count; ++i) REQUIRE(covered[static_cast<size_t>(i)] == 1);
    }
  }
}

TEST_CASE("an exception in any worker reaches the caller and the pool stays usable") {
  ThreadPool pool(2);
  CHECK_THROWS_AS(pool.run(2, [](int index, int) {
    if (index == 1) throw std::runtime_error("worker failed");
  }), std::runtime_error);
  CHECK_THROWS_AS(pool.run(2, [](int index, int) {
    if (index == 0) throw std::runtime_error("caller failed");
  }), std::runtime_error);
  std::atomic<int> ran{0};
  pool.run(2, [&](int, int) { ran.fetch_add(1); });
  CHECK(ran.load() == 2);
}

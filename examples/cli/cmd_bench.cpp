// `ollm bench -m MODEL [-p 512] [-n 128] [-s 1,8] [-t THREADS] [-r 5] [--warmup 1] [--device cpu|cuda] [--json]`:
// prompt processing (ppN) and generation (tgN) speed, time to first token, model load time and
// peak resident memory, shaped like llama-bench's output so the two compare at a glance.
//
// Method (kept equal to llama-bench where it has one, so ratios mean what they say):
//  - ppN: N token ids drawn uniformly from the vocabulary with a fixed seed, one fresh sequence,
//    max_tokens = 1 (the prompt is computed, only the last position's logits are used).
//    tokens/s = N / wall time. That same wall time is the time to first token.
//  - tgN: a 1-token prompt, then N tokens greedily, EOS ignored: N forward passes of one token,
//    as llama-bench's N single-token decodes. tokens/s = N / wall time.
//  - tgNxS (--sequences S > 1): S such requests submitted together to an engine that advances
//    up to S sequences per step (continuous batching): S*N tokens / wall time, the throughput a
//    server sees at S concurrent streams.
//  - Every test runs --warmup times untimed, then --repetitions times; mean and sample standard
//    deviation of the per-repetition tokens/s (llama-bench's statistic).
//  - Load: Model::load (memory-mapped) plus the Engine (KV cache, threads) — everything before
//    the first token can be computed. Loaded 1 + 5 times; the median of the last 5 is reported
//    (the page cache is warm after the first, which is what a user restarting a process sees).
//  - Peak resident memory: getrusage(RUSAGE_SELF).ru_maxrss, which counts the mapped weight pages
//    the process touched as well as its own allocations.
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>
#include <random>
#include <thread>

#include "cli_checks.hpp"
#include "commands.hpp"
#include "json_out.hpp"
#include "model_options.hpp"
#include "ollm/engine.hpp"
#include "ollm/error.hpp"
#include "ollm/model.hpp"
#include "ollm/version.hpp"

namespace ollm_cli {
namespace {

struct BenchOptions {
  std::string model;
  std::vector<int> n_prompt{512};
  std::vector<int> n_gen{128};
  std::vector<int> threads{0};
  std::vector<int> sequences{1};  // concurrent sequences of the tg tests
  int repetitions = 5;
  int warmup = 1;
  int load_repetitions = 5;
  std::string device = "cpu";
  std::string kv_type = "f16";
  std::string numerics = "standard";
  int64_t batch = ollm::EngineOptions{}.max_batch_tokens;  // prompt tokens per engine step
  bool no_mmap = false;
  bool json = false;
  uint64_t seed = 1234;
};

struct TestResult {
  std::string test;  // "pp512", "tg128"
  int threads = 0;
  int n_prompt = 0;
  int n_gen = 0;
  int sequences = 1;            // tg tests: requests decoding together
  std::vector<double> seconds;  // one per repetition
  std::vector<double> tokens_per_s;
};

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double mean(const std::vector<double>& v) {
  return v.empty() ? 0.0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// Sample standard deviation (n - 1), 0 for fewer than two samples, as llama-bench.
double stddev(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int resolve_threads(int t) {
  return t > 0 ? t : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) {
        auto name = line.substr(colon + 1);
        name.erase(0, name.find_first_not_of(" \t"));
        return name;
      }
    }
  }
  return "unknown";
}

// The kernel variant the library runs: OLLM_CPU_ISA when set, else the best the CPU supports,
// by the same rule as the library's dispatcher (kernels/cpu/isa.cpp). The public API does not
// report the selected variant, so it is derived here from the features it does report.
std::string kernel_isa(const ollm::BuildInfo& info) {
  if (const char* forced = std::getenv("OLLM_CPU_ISA"); forced != nullptr && *forced != '\0') return forced;
  auto has = [&](std::string_view f) {
    return std::find(info.cpu_features.begin(), info.cpu_features.end(), f) != info.cpu_features.end();
  };
  const bool avx2 = has("avx2") && has("fma") && has("f16c");
  if (avx2 && has("avx512f") && has("avx512bw") && has("avx512vl") && has("avx512_vnni")) return "avx512";
  return avx2 ? "avx2" : "scalar";
}

uint64_t peak_rss_bytes() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;  // Linux reports KiB
}

// llama.cpp's file-type names (general.file_type), e.g. "Q4_K_M"; else the dominant matrix type.
std::string file_type_name(const ollm::Model& model) {
  const auto& spec = model.spec();
  if (spec.tokenizer.gguf) {
    const int64_t ft = spec.tokenizer.gguf->metadata().get_int("general.file_type", -1);
    switch (ft) {
      case 0: return "F32";
      case 1: return "F16";
      case 2: return "Q4_0";
      case 3: return "Q4_1";
      case 7: return "Q8_0";
      case 8: return "Q5_0";
      case 9: return "Q5_1";
      case 10: return "Q2_K";
      case 11: return "Q3_K_S";
      case 12: return "Q3_K_M";
      case 13: return "Q3_K_L";
      case 14: return "Q4_K_S";
      case 15: return "Q4_K_M";
      case 16: return "Q5_K_S";
      case 17: return "Q5_K_M";
      case 18: return "Q6_K";
      case 32: return "BF16";
      default: break;
    }
  }
  std::map<ollm::DType, uint64_t> bytes;
  for (const auto& t : spec.tensors) bytes[t.type] += t.data.size();
  const auto top = std::max_element(bytes.begin(), bytes.end(),
                                    [](const auto& a, const auto& b) { return a.second < b.second; });
  return top == bytes.end() ? "?" : ollm::dtype_name(top->first);
}

uint64_t param_count(const ollm::Model& model) {
  uint64_t n = 0;
  for (const auto& t : model.spec().tensors) {  // (TensorInfo::element_count is not exported)
    uint64_t e = 1;
    for (int64_t d : t.dims) e *= static_cast<uint64_t>(d);
    n += e;
  }
  return n;
}

ollm::DType kv_dtype(const std::string& name) {
  return name == "f32"    ? ollm::DType::f32
         : name == "bf16" ? ollm::DType::bf16
         : name == "q8_0" ? ollm::DType::q8_0
                          : ollm::DType::f16;
}

// Bytes the KV cache budget holds: every layer's keys and values for `tokens` positions.
uint64_t kv_cache_bytes(const ollm::Model& model, int64_t tokens, ollm::DType type) {
  const auto& hp = model.spec().hparams;
  const uint64_t per_token = static_cast<uint64_t>(hp.n_layers) * hp.n_kv_heads *
                             (ollm::dtype_row_bytes(type, hp.head_dim) + ollm::dtype_row_bytes(type, hp.head_dim_v));
  return per_token * static_cast<uint64_t>(tokens);
}

std::string human_bytes(uint64_t b) {
  const double gib = static_cast<double>(b) / (1024.0 * 1024.0 * 1024.0);
  return gib >= 1.0 ? fmt::format("{:.2f} GiB", gib) : fmt::format("{:.2f} MiB", gib * 1024.0);
}

std::string human_params(uint64_t n) {
  const double d = static_cast<double>(n);
  if (d >= 1e9) return fmt::format("{:.2f} B", d / 1e9);
  if (d >= 1e6) return fmt::format("{:.2f} M", d / 1e6);
  return fmt::format("{:.2f} K", d / 1e3);
}

class Bench {
 public:
  Bench(const BenchOptions& opt) : opt_(opt), rng_(opt.seed) {}

  // Loads 1 + load_repetitions times; keeps the last model for the tests.
  void load() {
    ollm::ModelLoadOptions lo;
    lo.device = opt_.device;
    lo.use_mmap = !opt_.no_mmap;
    for (int i = 0; i <= opt_.load_repetitions; ++i) {
      model_.reset();  // the previous load is released first: one copy resident at a time
      const auto t0 = Clock::now();
      auto model = ollm::Model::load(opt_.model, lo);
      if (i == 0) kv_tokens_ = kv_budget(*model);  // needs the model's context length
      ollm::Engine engine(model, engine_options(resolve_threads(opt_.threads.front())));
      const double ms = seconds_since(t0) * 1e3;
      if (i == 0) first_load_ms_ = ms;
      else load_ms_.push_back(ms);
      model_ = std::move(model);
    }
  }

  void run_all() {
    for (int t : opt_.threads) {
      const int threads = resolve_threads(t);
      ollm::Engine engine(model_, engine_options(threads));
      for (int p : opt_.n_prompt)
        if (p > 0) results_.push_back(run_test(engine, threads, p, 0));
      for (int n : opt_.n_gen)
        if (n > 0) results_.push_back(run_test(engine, threads, 0, n));
      for (int seqs : opt_.sequences) {
        if (seqs <= 1) continue;
        ollm::Engine batched(model_, engine_options(threads, seqs));
        for (int n : opt_.n_gen)
          if (n > 0) results_.push_back(run_concurrent(batched, threads, n, seqs));
      }
    }
  }

  void print_text() const {
    const std::string desc = fmt::format("{} {}", model_->architecture(), file_type_name(*model_));
    const std::string size = human_bytes(model_->weight_bytes());
    const std::string params = human_params(param_count(*model_));
    const std::string backend = opt_.device == "cuda" ? "CUDA" : "CPU";
    fmt::print("| {:<30} | {:>10} | {:>10} | {:<10} | {:>7} | {:>15} | {:>20} |\n", "model", "size", "params", "backend",
               "threads", "test", "t/s");
    // Right-aligned columns end in ':' (Markdown alignment), as llama-bench marks them.
    fmt::print("| {:-<30} | {:->9}: | {:->9}: | {:-<10} | {:->6}: | {:->14}: | {:->19}: |\n", "", "", "", "", "", "", "");
    for (const auto& r : results_) {
      fmt::print("| {:<30} | {:>10} | {:>10} | {:<10} | {:>7} | {:>15} | {:>20} |\n", desc, size, params, backend,
                 r.threads, r.test, fmt::format("{:.2f} ± {:.2f}", mean(r.tokens_per_s), stddev(r.tokens_per_s)));
    }
    fmt::print("\nload {:.1f} ms (median of {}; first {:.1f} ms)", median(load_ms_), load_ms_.size(), first_load_ms_);
    if (const TestResult* pp = first_pp())
      fmt::print(" · time to first token {:.1f} ms ({}, threads {})", mean(pp->seconds) * 1e3, pp->test, pp->threads);
    fmt::print("\npeak RSS {} · weights {} · read per generated token {} · KV cache {} ({} tokens)\n",
               human_bytes(peak_rss_bytes()), human_bytes(model_->weight_bytes()), human_bytes(model_->bytes_per_token()),
               human_bytes(kv_cache_bytes(*model_, kv_tokens_, kv_dtype(opt_.kv_type))), kv_tokens_);
    const auto info = ollm::build_info();
    fmt::print("\nbuild: ollm {} ({})\n", ollm::version_string(), kernel_isa(info));
  }

  void print_json() const {
    const auto info = ollm::build_info();
    JsonOut j(std::cout);
    j.begin_object();
    j.key("model").value(opt_.model);
    j.key("model_type").value(fmt::format("{} {}", model_->architecture(), file_type_name(*model_)));
    j.key("architecture").value(model_->architecture());
    j.key("file_type").value(file_type_name(*model_));
    j.key("params").value(param_count(*model_));
    j.key("machine").begin_object();
    j.key("cpu").value(cpu_model_name());
    j.key("cores").value(static_cast<int64_t>(std::thread::hardware_concurrency()));
    j.key("isa").begin_array();
    for (const auto& f : info.cpu_features) j.value(f);
    j.end_array().end_object();
    j.key("build").begin_object();
    j.key("version").value(ollm::version_string());
    j.key("isa").value(kernel_isa(info));
    j.key("backends").begin_array();
    for (const auto& b : info.backends) j.value(b);
    j.end_array().end_object();
    j.key("device").value(opt_.device);
    j.key("repetitions").value(opt_.repetitions);
    j.key("warmup").value(opt_.warmup);
    j.key("batch").value(opt_.batch);
    j.key("results").begin_array();
    for (const auto& r : results_) {
      j.begin_object();
      j.key("test").value(r.test).key("threads").value(r.threads);
      j.key("n_prompt").value(r.n_prompt).key("n_gen").value(r.n_gen).key("sequences").value(r.sequences);
      j.key("tokens_per_s_mean").value(mean(r.tokens_per_s));
      j.key("tokens_per_s_stddev").value(stddev(r.tokens_per_s));
      j.key("samples").begin_array();
      for (double v : r.tokens_per_s) j.value(v);
      j.end_array();
      j.key("ms_samples").begin_array();
      for (double s : r.seconds) j.value(s * 1e3);
      j.end_array();
      j.end_object();
    }
    j.end_array();
    j.key("load_ms").value(median(load_ms_));
    j.key("load_ms_first").value(first_load_ms_);
    j.key("load_ms_samples").begin_array();
    for (double v : load_ms_) j.value(v);
    j.end_array();
    if (const TestResult* pp = first_pp()) {
      j.key("ttft_ms").value(mean(pp->seconds) * 1e3);
      j.key("ttft_test").value(pp->test);
    } else {
      j.key("ttft_ms").null();
    }
    j.key("peak_rss_bytes").value(peak_rss_bytes());
    j.key("weight_bytes").value(model_->weight_bytes());
    j.key("bytes_per_token").value(model_->bytes_per_token());
    j.key("kv_cache_tokens").value(kv_tokens_);
    j.key("numerics").value(opt_.numerics);
    j.key("kv_cache_bytes").value(kv_cache_bytes(*model_, kv_tokens_, kv_dtype(opt_.kv_type)));
    j.end_object();
    std::cout << '\n';
  }

 private:
  // Room for the longest test (llama-bench sizes its context the same way), in whole KV blocks.
  int64_t kv_budget(const ollm::Model& model) const {
    const int max_p = *std::max_element(opt_.n_prompt.begin(), opt_.n_prompt.end());
    const int max_n = *std::max_element(opt_.n_gen.begin(), opt_.n_gen.end());
    const int64_t need = std::max<int64_t>(max_p + 1, max_n + 1) + 16;
    const int64_t ctx = model.context_length();
    if (ctx > 0 && std::max(max_p, max_n + 1) > ctx)
      throw ollm::Error(ollm::ErrorCode::invalid_argument,
                        fmt::format("[bench] a test needs {} positions; the model's context is {}",
                                    std::max(max_p, max_n + 1), ctx));
    return (need + 15) / 16 * 16;
  }

  // sequences: requests that share a step (1: one request at a time, nothing else in its step).
  ollm::EngineOptions engine_options(int threads, int sequences = 1) const {
    ollm::EngineOptions e;
    e.threads = threads;
    e.kv_cache_tokens = kv_tokens_ * sequences;
    e.kv_type = kv_dtype(opt_.kv_type);
    e.numerics = numerics_of(opt_.numerics);
    e.max_sequences = sequences;
    e.max_batch_tokens = opt_.batch;
    return e;
  }

  std::vector<int32_t> random_ids(int n) {
    std::uniform_int_distribution<int32_t> dist(0, static_cast<int32_t>(model_->vocab_size() - 1));
    std::vector<int32_t> ids(static_cast<size_t>(n));
    for (auto& id : ids) id = dist(rng_);
    return ids;
  }

  // One timed run: seconds from submit until the result is back.
  double run_once(ollm::Engine& engine, int n_prompt, int n_gen) {
    ollm::GenerationRequest req;
    req.prompt_ids = random_ids(n_prompt > 0 ? n_prompt : 1);
    req.max_tokens = n_prompt > 0 ? 1 : n_gen;
    req.stop_at_eos = false;
    const auto t0 = Clock::now();
    const auto result = engine.generate(std::move(req));
    const double s = seconds_since(t0);
    const size_t want = static_cast<size_t>(n_prompt > 0 ? 1 : n_gen);
    if (result.tokens.size() != want)
      throw ollm::Error(ollm::ErrorCode::internal,
                        fmt::format("[bench] generated {} tokens, expected {} (finish: {}{}{})", result.tokens.size(),
                                    want, ollm::finish_reason_name(result.finish), result.error.empty() ? "" : ": ",
                                    result.error));
    return s;
  }

  TestResult run_test(ollm::Engine& engine, int threads, int n_prompt, int n_gen) {
    TestResult r;
    r.test = n_prompt > 0 ? fmt::format("pp{}", n_prompt) : fmt::format("tg{}", n_gen);
    r.threads = threads;
    r.n_prompt = n_prompt;
    r.n_gen = n_gen;
    for (int i = 0; i < opt_.warmup; ++i) run_once(engine, n_prompt, n_gen);
    const double tokens = n_prompt > 0 ? n_prompt : n_gen;
    for (int i = 0; i < opt_.repetitions; ++i) {
      const double s = run_once(engine, n_prompt, n_gen);
      r.seconds.push_back(s);
      r.tokens_per_s.push_back(tokens / s);
    }
    return r;
  }

  // S requests of a 1-token prompt and n_gen tokens each, submitted together; seconds until all
  // are back.
  double run_concurrent_once(ollm::Engine& engine, int n_gen, int seqs) {
    std::vector<ollm::RequestId> ids;
    const auto t0 = Clock::now();
    for (int i = 0; i < seqs; ++i) {
      ollm::GenerationRequest req;
      req.prompt_ids = random_ids(1);
      req.max_tokens = n_gen;
      req.stop_at_eos = false;
      ids.push_back(engine.submit(std::move(req)));
    }
    engine.run_until_done();
    const double s = seconds_since(t0);
    for (ollm::RequestId id : ids) {
      const auto result = engine.take_result(id);
      if (result.tokens.size() != static_cast<size_t>(n_gen))
        throw ollm::Error(ollm::ErrorCode::internal,
                          fmt::format("[bench] a concurrent request generated {} tokens, expected {} (finish: {}{}{})",
                                      result.tokens.size(), n_gen, ollm::finish_reason_name(result.finish),
                                      result.error.empty() ? "" : ": ", result.error));
    }
    return s;
  }

  TestResult run_concurrent(ollm::Engine& engine, int threads, int n_gen, int seqs) {
    TestResult r;
    r.test = fmt::format("tg{}x{}", n_gen, seqs);
    r.threads = threads;
    r.n_gen = n_gen;
    r.sequences = seqs;
    for (int i = 0; i < opt_.warmup; ++i) run_concurrent_once(engine, n_gen, seqs);
    for (int i = 0; i < opt_.repetitions; ++i) {
      const double s = run_concurrent_once(engine, n_gen, seqs);
      r.seconds.push_back(s);
      r.tokens_per_s.push_back(static_cast<double>(n_gen) * seqs / s);
    }
    return r;
  }

  const TestResult* first_pp() const {
    for (const auto& r : results_)
      if (r.n_prompt > 0) return &r;
    return nullptr;
  }

  const BenchOptions& opt_;
  std::mt19937_64 rng_;
  std::shared_ptr<const ollm::Model> model_;
  int64_t kv_tokens_ = 0;
  double first_load_ms_ = 0;
  std::vector<double> load_ms_;
  std::vector<TestResult> results_;
};

void check_device(const std::string& device) {
  if (device != "cuda") return;
  const auto info = ollm::build_info();
  if (std::find(info.backends.begin(), info.backends.end(), "cuda") == info.backends.end())
    throw ollm::Error(ollm::ErrorCode::unsupported,
                      "[bench] --device cuda: not available in this build (ollm was built without CUDA)");
  if (info.cuda_devices <= 0)
    throw ollm::Error(ollm::ErrorCode::unsupported,
                      fmt::format("[bench] --device cuda: not available here ({})", info.cuda_status));
}

int run(const BenchOptions& opt) {
  const bool any_test = std::any_of(opt.n_prompt.begin(), opt.n_prompt.end(), [](int p) { return p > 0; }) ||
                        std::any_of(opt.n_gen.begin(), opt.n_gen.end(), [](int n) { return n > 0; });
  if (!any_test)
    throw ollm::Error(ollm::ErrorCode::invalid_argument, "[bench] nothing to measure: every -p and -n is 0");
  check_device(opt.device);
  Bench bench(opt);
  bench.load();
  bench.run_all();
  if (opt.json) bench.print_json();
  else bench.print_text();
  return 0;
}

}  // namespace

Command add_bench_command(CLI::App& app) {
  auto opt = std::make_shared<BenchOptions>();
  auto* cmd = app.add_subcommand("bench", "Measure prompt and generation speed, load time and memory (like llama-bench)");
  cmd->add_option("-m,--model", opt->model, "GGUF file or Hugging Face model directory")->required();
  cmd->add_option("-p,--n-prompt", opt->n_prompt, "Prompt tokens of the pp tests (comma list; 0 = none)")
      ->delimiter(',')
      ->check(integer_in(0))
      ->capture_default_str();
  cmd->add_option("-n,--n-gen", opt->n_gen, "Generated tokens of the tg tests (comma list; 0 = none)")
      ->delimiter(',')
      ->check(integer_in(0))
      ->capture_default_str();
  cmd->add_option("-t,--threads", opt->threads, "Compute threads (comma list; 0 = all cores)")
      ->delimiter(',')
      ->check(integer_in(0, max_threads))
      ->capture_default_str();
  cmd->add_option("-s,--sequences", opt->sequences,
                  "Concurrent sequences of the tg tests (comma list; S > 1 adds tgNxS: S requests decoding together)")
      ->delimiter(',')
      ->check(integer_in(1, 4096))
      ->capture_default_str();
  cmd->add_option("-r,--repetitions", opt->repetitions, "Timed runs of each test")
      ->check(integer_in(1))
      ->capture_default_str();
  cmd->add_option("--warmup", opt->warmup, "Untimed runs of each test first")
      ->check(integer_in(0))
      ->capture_default_str();
  cmd->add_option("--load-repetitions", opt->load_repetitions, "Timed model loads (after one untimed)")
      ->check(integer_in(1))
      ->capture_default_str();
  cmd->add_option("--device", opt->device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
  cmd->add_option("--kv-type", opt->kv_type, "KV cache type: f16, bf16, f32 or q8_0")
      ->check(CLI::IsMember({"f16", "bf16", "f32", "q8_0"}))
      ->capture_default_str();
  cmd->add_option("--numerics", opt->numerics, "Rounding: standard, llamacpp or exact (see `ollm run --help`)")
      ->check(CLI::IsMember({"standard", "llamacpp", "exact"}))
      ->capture_default_str();
  cmd->add_option("-b,--batch", opt->batch, "Prompt tokens per engine step (llama-bench's -ub)")
      ->check(integer_in<int64_t>(1, INT32_MAX))
      ->capture_default_str();
  cmd->add_flag("--no-mmap", opt->no_mmap, "Read the weights into memory instead of mapping the file");
  cmd->add_option("--seed", opt->seed, "Seed of the random prompt token ids")
      ->check(integer_in<uint64_t>(0))
      ->capture_default_str();
  cmd->add_flag("--json", opt->json, "One JSON object on stdout (stable keys, for scripts)");
  return {cmd, [opt] { return run(*opt); }};
}

}  // namespace ollm_cli

// Every op of the backend seam, on the device under test (OLLM_TEST_DEVICE; the CPU by default,
// and a CUDA run that reports skipped where there is none), against a float64 host reference
// with a per-op, per-type tolerance — ggml's test-backend-ops idea. Every device array is fenced
// by sentinels that are checked after each op, and outputs start as NaN.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

#include "backend_test_support.hpp"
#include "backend/cuda_device.hpp"
#include "ollm/ops.hpp"

namespace {

using namespace backend_test;
using ollm::Activation;
using ollm::DType;
using ollm::Numerics;
namespace be = ollm::backend;

std::shared_ptr<be::Device> device() { return be::open_device(test_device()); }

bool on_cpu() { return test_device() == "cpu"; }

// The backend for `numerics`, or null when the device refuses them (Error unsupported), which is
// reported: the CPU takes all three; CUDA has no llama.cpp numerics (a reproduction of llama.cpp's
// CPU rounding steps), so those cases are skipped there, never passed.
std::unique_ptr<Backend> make_backend(Numerics numerics = Numerics::standard) {
  be::BackendOptions o;
  o.threads = 2;
  o.numerics = numerics;
  try {
    return device()->create_backend(o);
  } catch (const ollm::Error& e) {
    if (e.code() != ollm::ErrorCode::unsupported || on_cpu()) throw;
    MESSAGE("skipped on " << test_device() << ": " << e.what());
    return nullptr;
  }
}

#define CHECK_INTACT(array) CHECK_MESSAGE((array).damage().empty(), #array ": " << (array).damage())

// The weight bytes of `values` ([n, k]) in `type`, and their dequantized values as the reference.
struct TestWeight {
  std::vector<uint8_t> bytes;
  std::vector<float> values;  // what the weight holds, dequantized
  be::Weight host;            // a view of bytes
};

TestWeight make_weight(DType type, int64_t n, int64_t k, uint64_t seed) {
  TestWeight w;
  const auto raw = random_floats(static_cast<size_t>(n * k), seed);
  w.bytes = ollm::quantize(type, raw);
  w.values.resize(raw.size());
  ollm::dequantize(type, w.bytes, w.values);
  w.host = {type, w.bytes.data(), n, k, static_cast<size_t>(ollm::dtype_row_bytes(type, k))};
  return w;
}

std::vector<double> ref_matmul(const std::vector<float>& w, const std::vector<float>& x, int64_t m, int64_t n,
                               int64_t k) {
  std::vector<double> y(static_cast<size_t>(m * n));
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t i = 0; i < k; ++i) s += double(x[size_t(r * k + i)]) * w[size_t(j * k + i)];
      y[size_t(r * n + j)] = s;
    }
  return y;
}

// Activations quantized to 8 bits per block (standard numerics) cost about 1 % of a dot product;
// f32 arithmetic (exact numerics, float weights) rounding only.
// On CUDA, more than 16 rows of F16/BF16 weights go to cuBLAS with the activations rounded to
// the weights' type: 2^-11 (f16) or 2^-8 (bf16) relative per element.
double matmul_tolerance(DType type, Numerics numerics, int64_t m) {
  const bool float_weights = type == DType::f32 || type == DType::f16 || type == DType::bf16;
  if (!on_cpu() && numerics == Numerics::standard && m > 16 && type != DType::f32 && float_weights)
    return type == DType::f16 ? 1e-3 : 5e-3;
  if (numerics == Numerics::exact || (float_weights && numerics == Numerics::standard)) return 1e-5;
  if (float_weights) return 1e-2;  // llamacpp numerics round activations to f16 / bf16
  return 3e-2;
}

constexpr DType matmul_types[] = {DType::f32,  DType::f16,  DType::bf16, DType::q4_0, DType::q4_1,
                                  DType::q5_0, DType::q5_1, DType::q8_0, DType::q2_k, DType::q3_k,
                                  DType::q4_k, DType::q5_k, DType::q6_k, DType::iq4_nl, DType::iq4_xs};

}  // namespace

TEST_CASE("backend ops: the device answers supports() for types and numerics") {
  const auto d = device();
  for (DType t : matmul_types) CHECK(d->supports(be::Op::matmul, t));
  CHECK_FALSE(d->supports(be::Op::matmul, DType::i32));
  CHECK(d->supports(be::Op::attention, DType::q8_0, Numerics::standard));
  CHECK_FALSE(d->supports(be::Op::attention, DType::q8_0, Numerics::llamacpp));  // llama.cpp's path: F16/F32 only
  if (on_cpu()) {
    CHECK(d->supports(be::Op::attention, DType::f16, Numerics::llamacpp));
  } else {
    // llama.cpp's CPU rounding is the CPU's: refused by name, before any work.
    CHECK_FALSE(d->supports(be::Op::attention, DType::f16, Numerics::llamacpp));
    be::BackendOptions o;
    o.numerics = Numerics::llamacpp;
    CHECK_THROWS_WITH_AS(d->create_backend(o), doctest::Contains("runs on the cpu device only"), ollm::Error);
  }
  CHECK(d->supports(be::Op::embedding, DType::q4_k));
  CHECK(d->supports(be::Op::rms_norm, DType::f32));
  CHECK_FALSE(d->supports(be::Op::rms_norm, DType::f16));
  CHECK(be::op_name(be::Op::router_top_k) == "router_top_k");
}

// What a user of "cuda" sees in each kind of build and machine: never a crash, always the reason.
TEST_CASE("backend registry: \"cuda\" names a missing build or device, or opens it") {
  using ollm::ErrorCode;
  const auto code_of = [](const char* name) {
    try {
      be::open_device(name);
      return ErrorCode::ok;
    } catch (const ollm::Error& e) {
      MESSAGE((std::string(name) + ": " + e.what()));
      return e.code();
    }
  };
  const be::CudaDeviceReport report = be::cuda_device_report();
  if (!be::cuda_compiled_in()) {
    CHECK(code_of("cuda") == ErrorCode::unsupported);
    CHECK_THROWS_WITH_AS(be::open_device("cuda:1"), doctest::Contains("not compiled in"), ollm::Error);
  } else if (report.device_count == 0) {
    CHECK_FALSE(report.status.empty());  // why there is none, in words
    CHECK(code_of("cuda") == ErrorCode::not_found);
    CHECK_THROWS_WITH_AS(be::open_device("cuda"), doctest::Contains("is not there"), ollm::Error);
  } else {
    const auto d = be::open_device("cuda");
    CHECK(d->name() == "cuda:0");
    CHECK(d->display_name().find("CUDA device 0") == 0);
    CHECK(be::open_device("cuda:0") == d);  // one object per index
  }
  CHECK(code_of("cuda:99") == (be::cuda_compiled_in() ? ErrorCode::not_found : ErrorCode::unsupported));
  CHECK(code_of("cuda:x") == ErrorCode::invalid_argument);
  CHECK(code_of("gpu") == ErrorCode::invalid_argument);
}

TEST_CASE("backend ops: the sentinels catch a write past either end") {
  auto b = make_backend();
  DeviceFloats a(*b, 10);
  CHECK(a.damage().empty());
  const float one = 1.0f;
  b->upload(&one, a.ptr() + 10, sizeof one);  // one past the end
  CHECK(a.damage() == "element 0 past the end");
  DeviceFloats c(*b, 10);
  b->upload(&one, c.ptr() - 1, sizeof one);
  CHECK(c.damage() == "element -1 before the start");
}

TEST_CASE("backend ops: rms_norm and layer_norm") {
  const int64_t rows = 3, n = 67;  // an odd width: every SIMD tail
  const auto x = random_floats(rows * n, 1, -2, 2), w = random_floats(n, 2), bias = random_floats(n, 3);
  for (Numerics numerics : {Numerics::standard, Numerics::llamacpp, Numerics::exact}) {
    CAPTURE(ollm::numerics_name(numerics));
    auto b = make_backend(numerics);
    if (!b) continue;
    DeviceFloats dx(*b, x), dw(*b, w), db(*b, bias), dy(*b, rows * n);
    b->rms_norm(dx.ptr(), {dw.ptr(), n}, dy.ptr(), rows, n, 1e-6f);
    std::vector<double> ref(rows * n);
    for (int64_t r = 0; r < rows; ++r) {
      double ss = 0;
      for (int64_t i = 0; i < n; ++i) ss += double(x[r * n + i]) * x[r * n + i];
      const double inv = 1 / std::sqrt(ss / n + 1e-6);
      for (int64_t i = 0; i < n; ++i) ref[r * n + i] = x[r * n + i] * inv * w[i];
    }
    CHECK(normalised_error(dy.get(), ref) <= 1e-6);
    CHECK_INTACT(dy);
    CHECK_INTACT(dx);

    b->layer_norm(dx.ptr(), {dw.ptr(), n}, {db.ptr(), n}, dy.ptr(), rows, n, 1e-5f);
    for (int64_t r = 0; r < rows; ++r) {
      double mean = 0, var = 0;
      for (int64_t i = 0; i < n; ++i) mean += x[r * n + i];
      mean /= n;
      for (int64_t i = 0; i < n; ++i) var += (x[r * n + i] - mean) * (x[r * n + i] - mean);
      var /= n;
      for (int64_t i = 0; i < n; ++i) ref[r * n + i] = (x[r * n + i] - mean) / std::sqrt(var + 1e-5) * w[i] + bias[i];
    }
    CHECK(normalised_error(dy.get(), ref) <= 1e-6);
    CHECK_INTACT(dy);
  }
}

TEST_CASE("backend ops: add, add_bias, scale, softcap") {
  auto b = make_backend();
  const int64_t rows = 5, n = 33;
  const auto x = random_floats(rows * n, 4, -3, 3), y = random_floats(rows * n, 5), bias = random_floats(n, 6);
  DeviceFloats dx(*b, x), dy(*b, y), dbias(*b, bias), out(*b, rows * n);
  std::vector<double> ref(rows * n);

  b->add(dx.ptr(), dy.ptr(), out.ptr(), rows * n);
  for (size_t i = 0; i < ref.size(); ++i) ref[i] = x[i] + y[i];  // one f32 rounding, as the op
  CHECK(normalised_error(out.get(), ref) == 0);

  b->add_bias(out.ptr(), {dbias.ptr(), n}, rows);
  for (size_t i = 0; i < ref.size(); ++i) ref[i] = float(float(x[i] + y[i]) + bias[i % n]);
  CHECK(normalised_error(out.get(), ref) == 0);

  b->scale(out.ptr(), 0.25f, rows * n);
  for (double& v : ref) v *= 0.25;
  CHECK(normalised_error(out.get(), ref) <= 1e-7);

  dx.set(x);
  b->softcap(dx.ptr(), 2.0f, rows * n);
  for (size_t i = 0; i < ref.size(); ++i) ref[i] = 2.0 * std::tanh(x[i] / 2.0);
  CHECK(normalised_error(dx.get(), ref) <= 1e-6);
  CHECK_INTACT(out);
  CHECK_INTACT(dx);
  CHECK_INTACT(dbias);
}

TEST_CASE("backend ops: gated activations") {
  const int64_t rows = 3, n = 45;
  const auto gate = random_floats(rows * n, 7, -4, 4), up = random_floats(rows * n, 8);
  for (Activation act : {Activation::silu, Activation::gelu_tanh, Activation::gelu_erf}) {
    CAPTURE(static_cast<int>(act));
    auto b = make_backend();
    DeviceFloats dg(*b, gate), du(*b, up), out(*b, rows * n);
    b->gated_activation(act, dg.ptr(), du.ptr(), out.ptr(), rows, n, n, n);
    std::vector<double> ref(rows * n);
    for (size_t i = 0; i < ref.size(); ++i) {
      const double g = gate[i];
      const double a = act == Activation::silu        ? g / (1 + std::exp(-g))
                       : act == Activation::gelu_erf ? 0.5 * g * std::erfc(-g / std::sqrt(2.0))
                                                      : 0.5 * g * (1 + std::tanh(std::sqrt(2 / M_PI) * (g + 0.044715 * g * g * g)));
      ref[i] = a * up[i];
    }
    CHECK(normalised_error(out.get(), ref) <= 1e-5);
    CHECK_INTACT(out);
  }
}

TEST_CASE("backend ops: embedding gathers dequantized rows of every readable type") {
  const int64_t vocab = 11, n = 256;
  for (DType type : {DType::f32, DType::f16, DType::bf16, DType::q8_0, DType::q4_k, DType::q6_k}) {
    CAPTURE(ollm::dtype_name(type));
    auto b = make_backend();
    const TestWeight w = make_weight(type, vocab, n, 9);
    const auto store = device()->create_weight_store();  // owns the device copy (CUDA)
    const be::Weight table = store->place(w.host);      // CPU: a view of w.bytes
    const std::vector<int32_t> ids{3, 0, 10, 3};
    DeviceInts dids(*b, ids);
    DeviceFloats out(*b, ids.size() * n);
    b->embedding(table, dids.ptr(), static_cast<int64_t>(ids.size()), out.ptr());
    std::vector<double> ref;
    for (int32_t id : ids) ref.insert(ref.end(), w.values.begin() + id * n, w.values.begin() + (id + 1) * n);
    CHECK(normalised_error(out.get(), ref) == 0);
    CHECK_INTACT(out);
  }
}

TEST_CASE("backend ops: matmul on every weight type, decode and prefill row counts, every numerics") {
  const int64_t n = 37, k = 256;
  for (DType type : matmul_types) {
    const TestWeight w = make_weight(type, n, k, 10 + static_cast<uint64_t>(type));
    for (Numerics numerics : {Numerics::standard, Numerics::llamacpp, Numerics::exact}) {
      auto b = make_backend(numerics);
      if (!b) continue;
      const auto store = device()->create_weight_store();
      const be::Weight placed = store->place(w.host);
      for (int64_t m : {1, 3, 20}) {
        CAPTURE(ollm::dtype_name(type));
        CAPTURE(ollm::numerics_name(numerics));
        CAPTURE(m);
        const auto x = random_floats(m * k, 20 + m);
        DeviceFloats dx(*b, x), dy(*b, m * n);
        b->matmul(placed, dx.ptr(), m, dy.ptr());
        CHECK(normalised_error(dy.get(), ref_matmul(w.values, x, m, n, k)) <= matmul_tolerance(type, numerics, m));
        CHECK_INTACT(dy);
        CHECK_INTACT(dx);
      }
    }
  }
}

TEST_CASE("backend ops: matmul_shared_input equals one matmul per matrix, bit for bit") {
  const int64_t k = 256;
  const TestWeight q = make_weight(DType::q4_k, 40, k, 30), kk = make_weight(DType::q4_k, 8, k, 31),
                   v = make_weight(DType::q6_k, 8, k, 32);
  auto b = make_backend();
  auto store = device()->create_weight_store();
  const be::Weight wq = store->place(q.host), wk = store->place(kk.host), wv = store->place(v.host);
  for (int64_t m : {1, 9}) {
    CAPTURE(m);
    const auto x = random_floats(m * k, 33);
    DeviceFloats dx(*b, x), yq(*b, m * 40), yk(*b, m * 8), yv(*b, m * 8), sq(*b, m * 40), sk(*b, m * 8), sv(*b, m * 8);
    const std::array<const be::Weight*, 3> ws{&wq, &wk, &wv};
    const std::array<float*, 3> ys{yq.ptr(), yk.ptr(), yv.ptr()};
    b->matmul_shared_input(ws, ys, dx.ptr(), m);
    b->matmul(wq, dx.ptr(), m, sq.ptr());
    b->matmul(wk, dx.ptr(), m, sk.ptr());
    b->matmul(wv, dx.ptr(), m, sv.ptr());
    CHECK(yq.get() == sq.get());
    CHECK(yk.get() == sk.get());
    CHECK(yv.get() == sv.get());
    CHECK_INTACT(yq);
    CHECK_INTACT(yk);
    CHECK_INTACT(yv);
  }
}

TEST_CASE("backend ops: matmul_experts reads each row's selected experts") {
  const int64_t n_experts = 4, n = 16, k = 64, m = 5, n_sel = 2;
  for (DType type : {DType::f32, DType::q8_0, DType::q4_0}) {
    CAPTURE(ollm::dtype_name(type));
    const TestWeight w = make_weight(type, n_experts * n, k, 40);
    auto b = make_backend();
    const auto store = device()->create_weight_store();
    const be::Weight placed = store->place(w.host);
    const auto x = random_floats(m * k, 41);
    const std::vector<int32_t> ids{0, 3, 2, 1, 3, 3 /* the same expert twice */, 1, 0, 2, 2};
    DeviceFloats dx(*b, x), dy(*b, m * n_sel * n);
    DeviceInts dids(*b, ids);
    b->matmul_experts(placed, n_experts, dx.ptr(), m, dids.ptr(), n_sel, dy.ptr());
    std::vector<double> ref(m * n_sel * n);
    for (int64_t r = 0; r < m; ++r)
      for (int64_t s = 0; s < n_sel; ++s)
        for (int64_t j = 0; j < n; ++j) {
          double acc = 0;
          const int64_t row = ids[r * n_sel + s] * n + j;
          for (int64_t i = 0; i < k; ++i) acc += double(x[r * k + i]) * w.values[row * k + i];
          ref[(r * n_sel + s) * n + j] = acc;
        }
    CHECK(normalised_error(dy.get(), ref) <= (type == DType::f32 ? 1e-6 : 3e-2));
    CHECK_INTACT(dy);
  }
}

TEST_CASE("backend ops: rope, normal and neox pairs, partial rotary, frequency divisors") {
  const int n_heads = 3, head_dim = 64;
  const int64_t n_tok = 4;
  const std::vector<int32_t> pos{0, 5, 17, 300};
  for (auto layout : {ollm::RopeLayout::normal, ollm::RopeLayout::neox}) {
    for (int rot : {64, 32}) {
      for (bool divisors : {false, true}) {
        CAPTURE(static_cast<int>(layout));
        CAPTURE(rot);
        CAPTURE(divisors);
        auto b = make_backend();
        ollm::RopeParams p;
        p.head_dim = head_dim;
        p.rot_dims = rot;
        p.theta_base = 10000;
        p.layout = layout;
        std::vector<float> div;
        if (divisors)
          for (int i = 0; i < rot / 2; ++i) div.push_back(1.0f + 0.5f * static_cast<float>(i % 4));
        const auto plan = b->make_rope(p, div);
        const auto x = random_floats(n_tok * n_heads * head_dim, 50);
        DeviceFloats dx(*b, x);
        DeviceInts dpos(*b, pos);
        b->rope(*plan, dx.ptr(), n_tok, n_heads, dpos.ptr());
        std::vector<double> ref(x.begin(), x.end());
        for (int64_t t = 0; t < n_tok; ++t)
          for (int h = 0; h < n_heads; ++h)
            for (int i = 0; i < rot / 2; ++i) {
              double freq = std::pow(10000.0, -2.0 * i / rot);
              if (divisors) freq /= div[i];
              const double angle = pos[t] * freq;
              const int64_t base = (t * n_heads + h) * head_dim;
              const int64_t a = base + (layout == ollm::RopeLayout::normal ? 2 * i : i);
              const int64_t c = base + (layout == ollm::RopeLayout::normal ? 2 * i + 1 : i + rot / 2);
              ref[a] = x[a] * std::cos(angle) - x[c] * std::sin(angle);
              ref[c] = x[a] * std::sin(angle) + x[c] * std::cos(angle);
            }
        // The kernel rounds each angle to f32 (as transformers does): ~1e-5 at position 300.
        CHECK(normalised_error(dx.get(), ref) <= 1e-4);
        CHECK_INTACT(dx);
      }
    }
  }
}

// Two sequences whose blocks are scattered through the cache; one continues a cached prefix.
TEST_CASE("backend ops: kv_append and attention over a paged block table") {
  const int n_heads = 4, n_kv = 2, dim = 32;
  const int64_t bt = 4;
  const int64_t kv_dim = n_kv * dim, q_dim = n_heads * dim;
  struct Case {
    DType type;
    Numerics numerics;
    float softcap;
    int64_t window;
  };
  for (const Case cs : {Case{DType::f32, Numerics::standard, 0, 0}, Case{DType::f16, Numerics::standard, 0, 3},
                        Case{DType::q8_0, Numerics::standard, 30, 0}, Case{DType::f32, Numerics::llamacpp, 0, 0},
                        Case{DType::f32, Numerics::exact, 20, 5}}) {
    CAPTURE(ollm::dtype_name(cs.type));
    CAPTURE(ollm::numerics_name(cs.numerics));
    CAPTURE(cs.softcap);
    CAPTURE(cs.window);
    auto b = make_backend(cs.numerics);
    if (!b) continue;
    be::KvLayout layout{1, n_kv, dim, dim, cs.type, bt, 8};
    auto kv = b->create_kv_storage(layout);
    // Sequence A: 6 cached tokens + 3 new rows in blocks {5, 1, 6}; sequence B: 2 new rows in {3}.
    const std::vector<std::vector<int32_t>> blocks{{5, 1, 6}, {3}};
    const std::vector<int64_t> cached{6, 0}, rows{3, 2};
    const int64_t total = 6 + 3 + 2;  // every token written: A's cached ones first
    const auto k_all = random_floats(total * kv_dim, 60), v_all = random_floats(total * kv_dim, 61);
    // The values the cache holds (rounded to its type), per sequence in position order.
    std::vector<float> k_held(k_all.size()), v_held(v_all.size());
    for (int64_t t = 0; t < total; ++t) {
      const auto round = [&](const std::vector<float>& src, std::vector<float>& dst) {
        const std::vector<float> row(src.begin() + t * kv_dim, src.begin() + (t + 1) * kv_dim);
        std::vector<float> back(row.size());
        ollm::dequantize(cs.type, ollm::quantize(cs.type, row), back);
        std::copy(back.begin(), back.end(), dst.begin() + t * kv_dim);
      };
      round(k_all, k_held);
      round(v_all, v_held);
    }
    // Token t of the concatenation: sequence A's positions 0..8 then B's 0..1.
    auto slot_of = [&](int s, int64_t p) { return blocks[s][p / bt] * bt + p % bt; };
    std::vector<int32_t> slots;
    for (int64_t p = 0; p < 9; ++p) slots.push_back(static_cast<int32_t>(slot_of(0, p)));
    for (int64_t p = 0; p < 2; ++p) slots.push_back(static_cast<int32_t>(slot_of(1, p)));
    DeviceFloats dk(*b, k_all), dv(*b, v_all);
    DeviceInts dslots(*b, slots);
    // The cached prefix as an earlier step would have written it, then this step's rows.
    b->kv_append(*kv, 0, dk.ptr(), dv.ptr(), 6, dslots.ptr());
    const std::vector<float> k_step(k_all.begin() + 6 * kv_dim, k_all.end()), v_step(v_all.begin() + 6 * kv_dim, v_all.end());
    DeviceFloats dks(*b, k_step), dvs(*b, v_step);
    const std::vector<int32_t> step_slots(slots.begin() + 6, slots.end());
    DeviceInts dss(*b, step_slots);
    b->kv_append(*kv, 0, dks.ptr(), dvs.ptr(), 5, dss.ptr());

    be::StepIndices ix;
    ix.tokens = {0, 0, 0, 0, 0};
    ix.positions = {6, 7, 8, 0, 1};
    ix.kv_slots = step_slots;
    ix.block_table = {5, 1, 6, 3};
    ix.sequences = {{0, 3, 6, 0}, {3, 2, 0, 3}};
    const be::DeviceStep& step = b->upload_step(ix);
    ollm::AttentionParams ap;
    ap.n_heads = n_heads;
    ap.n_kv_heads = n_kv;
    ap.head_dim = dim;
    ap.head_dim_v = dim;
    ap.scale = 1.0f / std::sqrt(float(dim));
    ap.softcap = cs.softcap;
    ap.window = cs.window;
    const auto q = random_floats(5 * q_dim, 62);
    DeviceFloats dq(*b, q), out(*b, 5 * q_dim);
    b->attention(*kv, 0, ap, step, dq.ptr(), out.ptr());

    std::vector<double> ref(5 * q_dim);
    const int64_t seq_start[2] = {0, 9};  // first token of each sequence in k_held
    for (int64_t r = 0; r < 5; ++r) {
      const int s = r < 3 ? 0 : 1;
      const int64_t p = ix.positions[r];
      for (int h = 0; h < n_heads; ++h) {
        const int g = h / (n_heads / n_kv);
        std::vector<double> scores;
        std::vector<int64_t> keys;
        for (int64_t j = 0; j <= p; ++j) {
          if (cs.window > 0 && p - j >= cs.window) continue;
          double dot = 0;
          for (int e = 0; e < dim; ++e)
            dot += double(q[r * q_dim + h * dim + e]) * k_held[(seq_start[s] + j) * kv_dim + g * dim + e];
          dot *= ap.scale;
          if (cs.softcap > 0) dot = cs.softcap * std::tanh(dot / cs.softcap);
          scores.push_back(dot);
          keys.push_back(j);
        }
        const double mx = *std::max_element(scores.begin(), scores.end());
        double sum = 0;
        for (double& sc : scores) sum += (sc = std::exp(sc - mx));
        for (int e = 0; e < dim; ++e) {
          double acc = 0;
          for (size_t i = 0; i < keys.size(); ++i) acc += scores[i] * v_held[(seq_start[s] + keys[i]) * kv_dim + g * dim + e];
          ref[r * q_dim + h * dim + e] = acc / sum;
        }
      }
    }
    // llama.cpp numerics round queries and probabilities to fp16 as ggml does.
    CHECK(normalised_error(out.get(), ref) <= (cs.numerics == Numerics::llamacpp ? 2e-3 : 2e-5));
    CHECK_INTACT(out);
    CHECK_INTACT(dq);
  }
}

TEST_CASE("backend ops: router_top_k and expert_combine") {
  auto b = make_backend();
  const int64_t rows = 3, n_experts = 6, k = 2, n = 8;
  const auto logits = random_floats(rows * n_experts, 70, -3, 3);
  for (bool renorm : {true, false}) {
    CAPTURE(renorm);
    DeviceFloats dl(*b, logits), dw(*b, rows * k);
    DeviceInts di(*b, rows * k);
    b->router_top_k(dl.ptr(), rows, n_experts, k, renorm, di.ptr(), dw.ptr());
    const auto ids = di.get();
    const auto weights = dw.get();
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<double> p(n_experts);
      double mx = -INFINITY, sum = 0;
      for (int64_t e = 0; e < n_experts; ++e) mx = std::max(mx, double(logits[r * n_experts + e]));
      for (int64_t e = 0; e < n_experts; ++e) sum += (p[e] = std::exp(logits[r * n_experts + e] - mx));
      for (double& v : p) v /= sum;
      std::vector<int> order(n_experts);
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(), [&](int a, int c) { return p[a] > p[c]; });
      const double kept = p[order[0]] + p[order[1]];
      for (int64_t j = 0; j < k; ++j) {
        CHECK(ids[r * k + j] == order[j]);
        CHECK(weights[r * k + j] == doctest::Approx(renorm ? p[order[j]] / kept : p[order[j]]).epsilon(1e-6));
      }
    }
    CHECK_INTACT(dw);
    CHECK_INTACT(di);
  }
  const auto expert_out = random_floats(rows * k * n, 71), w = random_floats(rows * k, 72, 0, 1);
  DeviceFloats de(*b, expert_out), dw(*b, w), out(*b, rows * n);
  b->expert_combine(de.ptr(), dw.ptr(), rows, k, n, out.ptr());
  std::vector<double> ref(rows * n, 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < k; ++j)
      for (int64_t i = 0; i < n; ++i) ref[r * n + i] += double(w[r * k + j]) * expert_out[(r * k + j) * n + i];
  CHECK(normalised_error(out.get(), ref) <= 1e-6);
  CHECK_INTACT(out);
}

TEST_CASE("backend ops: gather_rows and copy_columns move exact values") {
  auto b = make_backend();
  const int64_t rows = 4, n = 10;
  const auto src = random_floats(rows * n, 80);
  DeviceFloats ds(*b, src), dst(*b, 2 * n), cols(*b, rows * 3);
  DeviceInts which(*b, std::vector<int32_t>{3, 1});
  b->gather_rows(ds.ptr(), n, which.ptr(), 2, dst.ptr());
  std::vector<double> ref;
  for (int32_t r : {3, 1}) ref.insert(ref.end(), src.begin() + r * n, src.begin() + (r + 1) * n);
  CHECK(normalised_error(dst.get(), ref) == 0);
  b->copy_columns(ds.ptr(), n, 4, 3, cols.ptr(), 3, rows);
  ref.clear();
  for (int64_t r = 0; r < rows; ++r) ref.insert(ref.end(), src.begin() + r * n + 4, src.begin() + r * n + 7);
  CHECK(normalised_error(cols.get(), ref) == 0);
  CHECK_INTACT(dst);
  CHECK_INTACT(cols);
}

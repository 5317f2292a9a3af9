// Routes the transformer ops of kernels/cpu/ops.hpp to the selected ISA variant.
#include "cpu/ops.hpp"

#include "cpu/ops_isa.hpp"

namespace ollm::cpu {
namespace {

const OpsKernels& kernels() {
  static const OpsKernels& table = ops_for(selected_isa());
  return table;
}

}  // namespace

void rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t n, float eps) {
  kernels().rms_norm(x, w, y, rows, n, eps);
}

void layer_norm(const float* x, const float* w, const float* b, float* y, int64_t rows, int64_t n, float eps) {
  kernels().layer_norm(x, w, b, y, rows, n, eps);
}

void rope(const RopeParams& p, const RopeTable& t, float* x, int64_t n_tok, int n_heads, const int32_t* pos) {
  kernels().rope(p, t, x, n_tok, n_heads, pos);
}

void gated_activation(Activation act, const float* gate, const float* up, float* out, int64_t rows, int64_t n,
                      int64_t gate_stride, int64_t up_stride) {
  kernels().gated_activation(act, gate, up, out, rows, n, gate_stride, up_stride);
}

void activation(Activation act, const float* x, float* y, int64_t count) { kernels().activation(act, x, y, count); }

void softmax(float* x, int64_t rows, int64_t n) { kernels().softmax(x, rows, n); }

void add(const float* a, const float* b, float* y, int64_t count) { kernels().add(a, b, y, count); }

void scale(float* x, float s, int64_t count) { kernels().scale(x, s, count); }

void softcap(float* x, float cap, int64_t count) { kernels().softcap(x, cap, count); }

}  // namespace ollm::cpu

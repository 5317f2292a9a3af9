// The per-ISA entry points of the transformer ops (kernels/cpu/ops.hpp): each compiled variant
// fills one OpsKernels table; ops.cpp routes through the selected one, tests call every one.
#pragma once

#include <cstdint>

#include "cpu/isa_variant.hpp"
#include "cpu/ops.hpp"

namespace ollm::cpu {

struct OpsKernels {
  void (*rms_norm)(const float* x, const float* w, float* y, int64_t rows, int64_t n, float eps);
  void (*layer_norm)(const float* x, const float* w, const float* b, float* y, int64_t rows, int64_t n, float eps);
  void (*rope)(const RopeParams& p, const RopeTable& t, float* x, int64_t n_tok, int n_heads, const int32_t* pos);
  void (*gated_activation)(Activation act, const float* gate, const float* up, float* out, int64_t rows, int64_t n,
                           int64_t gate_stride, int64_t up_stride);
  void (*activation)(Activation act, const float* x, float* y, int64_t count);
  void (*softmax)(float* x, int64_t rows, int64_t n);
  void (*add)(const float* a, const float* b, float* y, int64_t count);
  void (*scale)(float* x, float s, int64_t count);
  void (*softcap)(float* x, float cap, int64_t count);
};

}  // namespace ollm::cpu

// Each variant's functions (same signatures as the OpsKernels members) and its table.
OLLM_DECLARE_ISA_KERNEL(void rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t n, float eps))
OLLM_DECLARE_ISA_KERNEL(void layer_norm(const float* x, const float* w, const float* b, float* y, int64_t rows,
                                        int64_t n, float eps))
OLLM_DECLARE_ISA_KERNEL(void rope(const ollm::cpu::RopeParams& p, const ollm::cpu::RopeTable& t, float* x,
                                  int64_t n_tok, int n_heads, const int32_t* pos))
OLLM_DECLARE_ISA_KERNEL(void gated_activation(ollm::cpu::Activation act, const float* gate, const float* up,
                                              float* out, int64_t rows, int64_t n, int64_t gate_stride,
                                              int64_t up_stride))
OLLM_DECLARE_ISA_KERNEL(void activation(ollm::cpu::Activation act, const float* x, float* y, int64_t count))
OLLM_DECLARE_ISA_KERNEL(void softmax(float* x, int64_t rows, int64_t n))
OLLM_DECLARE_ISA_KERNEL(void add(const float* a, const float* b, float* y, int64_t count))
OLLM_DECLARE_ISA_KERNEL(void scale(float* x, float s, int64_t count))
OLLM_DECLARE_ISA_KERNEL(void softcap(float* x, float cap, int64_t count))
OLLM_DECLARE_ISA_KERNEL(const ollm::cpu::OpsKernels& ops_kernels() noexcept)

namespace ollm::cpu {

// The table of one compiled variant (the caller checks isa_supported first).
inline const OpsKernels& ops_for(Isa isa) noexcept {
  return pick_isa(isa, &scalar::ops_kernels, &avx2::ops_kernels, &avx512::ops_kernels)();
}

}  // namespace ollm::cpu

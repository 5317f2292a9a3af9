// The table of one ISA variant's transformer ops (kernels/cpu/ops_isa.hpp), compiled once per ISA.
#include "cpu/ops_isa.hpp"

namespace ollm::cpu::OLLM_ISA_NAMESPACE {

const OpsKernels& ops_kernels() noexcept {
  static constexpr OpsKernels table{&rms_norm, &layer_norm, &rope,  &gated_activation, &activation,
                                    &softmax,  &add,        &scale, &softcap};
  return table;
}

}  // namespace ollm::cpu::OLLM_ISA_NAMESPACE

// The name each compiled ISA variant reports about itself (see isa_probe.cpp).
#pragma once

#include "cpu/isa_variant.hpp"

OLLM_DECLARE_ISA_KERNEL(const char* isa_probe() noexcept)

namespace ollm::cpu {

inline const char* isa_probe(Isa isa) noexcept {
  return pick_isa(isa, &scalar::isa_probe, &avx2::isa_probe, &avx512::isa_probe)();
}

}  // namespace ollm::cpu

// Declares a kernel in every compiled ISA namespace at once and routes a call to the selected
// one. Kernel sources are compiled once per ISA (cmake/OllmCpuIsa.cmake) inside
//   namespace ollm::cpu::OLLM_ISA_NAMESPACE { ... }
// and a dispatch file calls them through a table indexed by Isa.
#pragma once

#include "cpu/isa.hpp"

namespace ollm::cpu {

// Picks the entry of a {scalar, avx2, avx512} table for an ISA.
template <class Fn>
Fn pick_isa(Isa isa, Fn scalar_fn, Fn avx2_fn, Fn avx512_fn) noexcept {
  switch (isa) {
    case Isa::avx512: return avx512_fn;
    case Isa::avx2: return avx2_fn;
    case Isa::scalar: break;
  }
  return scalar_fn;
}

}  // namespace ollm::cpu

// Declares `signature` (a function declaration without namespace) in all three ISA namespaces.
#define OLLM_DECLARE_ISA_KERNEL(...)          \
  namespace ollm::cpu::scalar { __VA_ARGS__; } \
  namespace ollm::cpu::avx2 { __VA_ARGS__; }   \
  namespace ollm::cpu::avx512 { __VA_ARGS__; }

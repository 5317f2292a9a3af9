// Compiled once per ISA: reports which variant it is and what the compiler enabled, so a test
// can check that each dispatch entry really is the variant it claims to be.
#include "cpu/isa_probe.hpp"

namespace ollm::cpu::OLLM_ISA_NAMESPACE {

const char* isa_probe() noexcept {
#if defined(OLLM_ISA_AVX512) && defined(__AVX512VNNI__) && defined(__AVX512BW__)
  return "avx512";
#elif defined(OLLM_ISA_AVX2) && defined(__AVX2__) && defined(__FMA__) && !defined(__AVX512F__)
  return "avx2";
#elif defined(OLLM_ISA_SCALAR) && !defined(__AVX2__)
  return "scalar";
#else
  return "misconfigured";
#endif
}

}  // namespace ollm::cpu::OLLM_ISA_NAMESPACE

// Which compiled instruction-set variant of the CPU kernels runs (see cmake/OllmCpuIsa.cmake).
// Chosen once from the CPU's features; OLLM_CPU_ISA=avx512|avx2|scalar forces one so tests can
// exercise every compiled variant on one machine.
#pragma once

#include <optional>
#include <string_view>

namespace ollm::cpu {

enum class Isa { scalar = 0, avx2 = 1, avx512 = 2 };

inline constexpr Isa all_isas[] = {Isa::scalar, Isa::avx2, Isa::avx512};

const char* isa_name(Isa isa) noexcept;
std::optional<Isa> isa_from_name(std::string_view name) noexcept;

// Whether this CPU and OS can run the variant (avx512 needs F, BW, VL and VNNI; avx2 needs
// AVX2, FMA and F16C).
bool isa_supported(Isa isa) noexcept;

// The best supported variant, or the one OLLM_CPU_ISA names. Read once and cached. Throws
// Error(invalid_argument) naming the value when OLLM_CPU_ISA is unknown or not supported here
// (a forced variant that would fault with SIGILL must be refused, not run).
Isa selected_isa();

}  // namespace ollm::cpu

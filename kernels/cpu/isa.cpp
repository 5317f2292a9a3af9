// Run-time choice of the kernel variant: best supported, or forced by OLLM_CPU_ISA.
#include "cpu/isa.hpp"

#include <cstdlib>
#include <string>

#include "cpu/cpu_features.hpp"
#include "util/fail.hpp"

namespace ollm::cpu {

const char* isa_name(Isa isa) noexcept {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
  }
  return "unknown";
}

std::optional<Isa> isa_from_name(std::string_view name) noexcept {
  for (Isa isa : all_isas)
    if (name == isa_name(isa)) return isa;
  return std::nullopt;
}

bool isa_supported(Isa isa) noexcept {
  const CpuFeatures& f = cpu_features();
  switch (isa) {
    case Isa::scalar: return true;
    case Isa::avx2: return f.avx2 && f.fma && f.f16c;
    case Isa::avx512: return f.avx2 && f.fma && f.f16c && f.avx512f && f.avx512bw && f.avx512vl &&
                             f.avx512_vnni;
  }
  return false;
}

namespace {

Isa choose_isa() {
  if (const char* forced = std::getenv("OLLM_CPU_ISA"); forced != nullptr && *forced != '\0') {
    const auto isa = isa_from_name(forced);
    if (!isa)
      fail(ErrorCode::invalid_argument,
           "[cpu] OLLM_CPU_ISA='{}' is not one of avx512, avx2, scalar", forced);
    if (!isa_supported(*isa))
      fail(ErrorCode::invalid_argument,
           "[cpu] OLLM_CPU_ISA='{}' is not supported by this CPU", forced);
    return *isa;
  }
  for (Isa isa : {Isa::avx512, Isa::avx2})
    if (isa_supported(isa)) return isa;
  return Isa::scalar;
}

}  // namespace

Isa selected_isa() {
  static const Isa isa = choose_isa();  // a throw leaves it unset, so the error repeats
  return isa;
}

}  // namespace ollm::cpu

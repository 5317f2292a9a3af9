// Internal to the decode matmul: the row kernels of Numerics::exact (WeightMatrix::exact_f32),
// quantized weights against f32 activations with f32 arithmetic only (matmul_exact.cpp).
#pragma once

#include "cpu/gemv_kernels.hpp"

// The exact row kernel of a quantized weight type (activations in ActFormat::f32), or nullptr
// for types without one (F32 / F16 / BF16 run gemv_float_kernel, which is exact already).
OLLM_DECLARE_ISA_KERNEL(ollm::cpu::GemvKernel gemv_exact_kernel(ollm::DType type) noexcept)

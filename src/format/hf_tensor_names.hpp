// Hugging Face tensor names → the GGUF naming scheme of llama.cpp's converter
// (gguf-py's tensor_mapping.py is the authority): "model.layers.3.self_attn.q_proj.weight" →
// "blk.3.attn_q.weight".
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ollm {

// The GGUF-scheme name, or nullopt when ollm knows no mapping (the caller keeps the source name).
// `architecture` is ollm's normalised name ("llama", "gemma3", ...): Gemma's norms are named
// differently, BERT has its own layout.
//
// Mixture-of-experts weights stay per expert: "model.layers.N.mlp.experts.E.gate_proj.weight"
// (and Mixtral's "block_sparse_moe.experts.E.w1.weight") become "blk.N.ffn_gate.E.weight"; the
// model layer stacks them into the [n_expert, ...] tensor that GGUF calls "blk.N.ffn_gate_exps".
// Checkpoints that already store them stacked map to "blk.N.ffn_{gate,up,down}_exps.weight".
//
// Only names change; the bytes stay as Hugging Face stores them, which is not always what the
// converter writes: it permutes llama/mistral/mixtral attn_q/attn_k rows from HF's rotate-half
// RoPE layout to ggml's interleaved one, and adds 1 to Gemma's RMSNorm weights (HF computes
// x * (1 + w)). The model layer must apply those when ModelSpec::format is safetensors.
std::optional<std::string> hf_tensor_gguf_name(std::string_view architecture, std::string_view hf_name);

// The other way, for messages about a tensor a Hugging Face directory lacks: the name a
// transformers checkpoint of `architecture` gives the GGUF-scheme `gguf_name`
// ("blk.3.attn_q.weight" → "model.layers.3.self_attn.q_proj.weight"), or nullopt when there is
// none. hf_tensor_gguf_name() maps the result back to `gguf_name`.
std::optional<std::string> hf_tensor_source_name(std::string_view architecture, std::string_view gguf_name);

}  // namespace ollm

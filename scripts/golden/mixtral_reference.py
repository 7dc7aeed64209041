#!/usr/bin/python3
"""Golden logits of a tiny random Mixtral, for @moekit/transformer's checkpoint test.

Transcribes the forward pass of
  huggingface/transformers src/transformers/models/mixtral/modeling_mixtral.py
  @ 00d4b3d2142cb4ced2f51b90614b5d26bc045015
(MixtralRMSNorm, MixtralRotaryEmbedding + rotate_half/apply_rotary_pos_emb, repeat_kv +
eager_attention_forward with the causal mask, MixtralSparseMoeBlock, MixtralDecoderLayer,
MixtralModel, MixtralForCausalLM) into plain torch, in float32.

Why a transcription: `transformers` is not installable on this machine (no network for pip); torch
1.13 is (Debian's python3-torch). The transcription follows the reference function by function; the
safetensors file is written by hand with struct + json below (an independent writer, so the test
also checks moekit's reader against a file moekit did not write).

Run: /usr/bin/python3 scripts/golden/mixtral_reference.py   (writes scripts/golden/tiny-mixtral/)
"""
import json
import os
import struct

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny-mixtral")

CONFIG = {
    "architectures": ["MixtralForCausalLM"],
    "model_type": "mixtral",
    "vocab_size": 61,
    "hidden_size": 32,
    "intermediate_size": 48,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "head_dim": 8,
    "hidden_act": "silu",
    "max_position_embeddings": 64,
    "initializer_range": 0.02,
    "rms_norm_eps": 1e-5,
    "use_cache": True,
    "pad_token_id": None,
    "bos_token_id": 1,
    "eos_token_id": 2,
    "tie_word_embeddings": False,
    "rope_theta": 1e6,
    "sliding_window": None,
    "attention_dropout": 0.0,
    "num_experts_per_tok": 2,
    "num_local_experts": 4,
    "output_router_logits": False,
    "router_aux_loss_coef": 0.001,
    "router_jitter_noise": 0.0,
    "torch_dtype": "float32",
}


def make_weights(c, generator):
    """Random weights, HF names and [out, in] layout; std 0.3 so routing differs between tokens."""
    D, H, V = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    hd, nh, nkv, E = c["head_dim"], c["num_attention_heads"], c["num_key_value_heads"], c["num_local_experts"]

    def randn(*shape, std=0.3):
        return (torch.randn(*shape, generator=generator) * std).float()

    w = {"model.embed_tokens.weight": randn(V, D, std=1.0)}
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        w[p + "input_layernorm.weight"] = 1 + randn(D, std=0.1)
        w[p + "self_attn.q_proj.weight"] = randn(nh * hd, D)
        w[p + "self_attn.k_proj.weight"] = randn(nkv * hd, D)
        w[p + "self_attn.v_proj.weight"] = randn(nkv * hd, D)
        w[p + "self_attn.o_proj.weight"] = randn(D, nh * hd)
        w[p + "post_attention_layernorm.weight"] = 1 + randn(D, std=0.1)
        w[p + "block_sparse_moe.gate.weight"] = randn(E, D, std=0.5)
        for e in range(E):
            q = p + f"block_sparse_moe.experts.{e}."
            w[q + "w1.weight"] = randn(H, D)
            w[q + "w2.weight"] = randn(D, H)
            w[q + "w3.weight"] = randn(H, D)
    w["model.norm.weight"] = 1 + randn(D, std=0.1)
    w["lm_head.weight"] = randn(V, D)
    return w


def rms_norm(x, weight, eps):
    # MixtralRMSNorm.forward: x · rsqrt(mean(x²) + eps), then weight ·
    variance = x.pow(2).mean(-1, keepdim=True)
    return weight * (x * torch.rsqrt(variance + eps))


def rotary(c, seq_len):
    # MixtralRotaryEmbedding.compute_default_rope_parameters + forward
    d = c["head_dim"]
    inv_freq = 1.0 / (c["rope_theta"] ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d))
    freqs = torch.outer(torch.arange(seq_len).float(), inv_freq)  # [S, d/2]
    emb = torch.cat((freqs, freqs), dim=-1)  # [S, d]
    return emb.cos(), emb.sin()


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def attention(c, x, w, p, cos, sin):
    B, S, _ = x.shape
    hd, nh, nkv = c["head_dim"], c["num_attention_heads"], c["num_key_value_heads"]
    q = (x @ w[p + "q_proj.weight"].T).view(B, S, nh, hd).transpose(1, 2)  # [B, nh, S, hd]
    k = (x @ w[p + "k_proj.weight"].T).view(B, S, nkv, hd).transpose(1, 2)  # [B, nkv, S, hd]
    v = (x @ w[p + "v_proj.weight"].T).view(B, S, nkv, hd).transpose(1, 2)
    q = q * cos + rotate_half(q) * sin  # apply_rotary_pos_emb
    k = k * cos + rotate_half(k) * sin
    rep = nh // nkv  # repeat_kv: each kv head serves `rep` consecutive query heads
    k = k[:, :, None].expand(B, nkv, rep, S, hd).reshape(B, nh, S, hd)
    v = v[:, :, None].expand(B, nkv, rep, S, hd).reshape(B, nh, S, hd)
    scores = (q @ k.transpose(2, 3)) * hd ** -0.5  # [B, nh, S, S]
    causal = torch.triu(torch.ones(S, S, dtype=torch.bool), diagonal=1)
    scores = scores + torch.where(causal, torch.finfo(torch.float32).min, 0.0)
    probs = torch.softmax(scores.float(), dim=-1)
    out = (probs @ v).transpose(1, 2).reshape(B, S, nh * hd)
    return out @ w[p + "o_proj.weight"].T


def sparse_moe(c, x, w, p):
    # MixtralSparseMoeBlock.forward (dropless): softmax → top-k → renormalise → Σ weight · expert(x)
    B, S, D = x.shape
    flat = x.reshape(-1, D)
    router_logits = flat @ w[p + "gate.weight"].T  # [T, E]
    probs = torch.softmax(router_logits, dim=1, dtype=torch.float)
    top, chosen = torch.topk(probs, c["num_experts_per_tok"], dim=-1)
    top = top / top.sum(dim=-1, keepdim=True)
    out = torch.zeros_like(flat)
    for t in range(flat.shape[0]):
        for j in range(chosen.shape[1]):
            e = int(chosen[t, j])
            q = p + f"experts.{e}."
            h = torch.nn.functional.silu(flat[t] @ w[q + "w1.weight"].T) * (flat[t] @ w[q + "w3.weight"].T)
            out[t] += top[t, j] * (h @ w[q + "w2.weight"].T)
    return out.reshape(B, S, D), router_logits


def forward(c, w, ids):
    x = w["model.embed_tokens.weight"][ids]  # [B, S, D]
    cos, sin = rotary(c, ids.shape[1])
    router_logits = []
    for i in range(c["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = x + attention(c, rms_norm(x, w[p + "input_layernorm.weight"], c["rms_norm_eps"]), w, p + "self_attn.", cos, sin)
        moe, logits = sparse_moe(c, rms_norm(h, w[p + "post_attention_layernorm.weight"], c["rms_norm_eps"]), w, p + "block_sparse_moe.")
        x = h + moe
        router_logits.append(logits)
    x = rms_norm(x, w["model.norm.weight"], c["rms_norm_eps"])
    return x @ w["lm_head.weight"].T, router_logits


def write_safetensors(path, tensors):
    """The safetensors format by hand: u64 header length, JSON header, little-endian F32 data."""
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        data = tensors[name].detach().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # pad the header to 8 bytes, as the reference writer does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def main():
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(19)
    weights = make_weights(CONFIG, generator)
    ids = torch.tensor([[1, 17, 42, 5, 60, 33, 8, 21, 0], [1, 3, 3, 59, 12, 27, 44, 9, 30]], dtype=torch.int64)
    with torch.no_grad():
        logits, router_logits = forward(CONFIG, weights, ids)
    os.makedirs(OUT, exist_ok=True)
    write_safetensors(os.path.join(OUT, "model.safetensors"), weights)
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
        f.write("\n")
    golden = {
        "source": "huggingface/transformers src/transformers/models/mixtral/modeling_mixtral.py @ 00d4b3d2142cb4ced2f51b90614b5d26bc045015, transcribed in plain torch "
        + torch.__version__,
        "inputIds": ids.tolist(),
        "logits": np.round(logits.numpy().astype(np.float64), 7).tolist(),
        "routerLogits": [np.round(r.numpy().astype(np.float64), 7).tolist() for r in router_logits],
    }
    with open(os.path.join(OUT, "logits.json"), "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")
    chosen = [torch.topk(r, 2, dim=-1).indices.tolist() for r in router_logits]
    distinct = [len({tuple(sorted(c)) for c in layer}) for layer in chosen]
    print("logits", tuple(logits.shape), "max |logit|", float(logits.abs().max()), "distinct top-2 sets per layer", distinct)


if __name__ == "__main__":
    main()

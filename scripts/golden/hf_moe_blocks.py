"""Golden outputs of Hugging Face's sparse MoE blocks for @moekit/hf's checkpoint layouts
(packages/hf/src/mixtral-sparse-moe.ts, switch-sparse-mlp.ts).

The forward passes are transcribed (in our own code, with PyTorch's F.linear, which computes x · Wᵀ
with W stored [out, in] exactly as nn.Linear does) from:
- huggingface/transformers src/transformers/models/mixtral/modeling_mixtral.py
  @ 00d4b3d2142cb4ced2f51b90614b5d26bc045015 (MixtralSparseMoeBlock, MixtralBlockSparseTop2MLP):
  softmax over the gate logits, top-k, renormalised, y = sum_k p_k * w2(silu(w1 x) * w3 x), dropless.
- huggingface/transformers src/transformers/models/switch_transformers/modeling_switch_transformers.py
  @ 2b24433ab77dc90a72d41a2a58ecaaa35c021037 (SwitchTransformersTop1Router, SwitchTransformersSparseMLP,
  SwitchTransformersDenseActDense): softmax, argmax, a token kept while its position among its row's
  tokens for that expert is <= expert_capacity, y = p_max * (wo(relu(wi x)) if kept else x).

Run with Debian's torch:

    /usr/bin/python3 scripts/golden/hf_moe_blocks.py

Writes scripts/golden/hf_moe_blocks.json (commit it; CI does not install torch): the config.json
fields, the weights under their HF names, the input and the output of each block.
"""
import json
from pathlib import Path

import torch
import torch.nn.functional as F

torch.manual_seed(19)


def mixtral_block(x, tensors, prefix, num_experts, top_k):
    """x [T, D] -> y [T, D]: Mixtral's dropless top-k SwiGLU block."""
    logits = F.linear(x, tensors[prefix + 'gate.weight'])  # [T, E]
    probs = torch.softmax(logits, dim=-1, dtype=torch.float32)
    weights, chosen = torch.topk(probs, top_k, dim=-1)  # [T, K]
    weights = weights / weights.sum(dim=-1, keepdim=True)
    y = torch.zeros_like(x)
    for t in range(x.shape[0]):
        for j in range(top_k):
            e = int(chosen[t, j])
            w = lambda name: tensors[f'{prefix}experts.{e}.{name}.weight']
            hidden = F.silu(F.linear(x[t], w('w1'))) * F.linear(x[t], w('w3'))  # [H]
            y[t] += weights[t, j] * F.linear(hidden, w('w2'))
    return y


def switch_mlp(x, tensors, prefix, num_experts, expert_capacity):
    """x [B, S, D] -> (y [B, S, D], kept [B, S]): Switch's top-1 MLP, capacity per row, p-scaled output."""
    probs = torch.softmax(F.linear(x, tensors[prefix + 'router.classifier.weight']), dim=-1)  # [B, S, E]
    chosen = torch.argmax(probs, dim=-1)  # [B, S]
    mask = F.one_hot(chosen, num_experts)  # [B, S, E]
    position = torch.cumsum(mask, dim=-2)  # a token's rank among its row's tokens for its expert, from 1
    mask = mask * (position <= expert_capacity)
    kept = mask.sum(-1) > 0
    out = x.clone()
    for e in range(num_experts):
        rows = mask[:, :, e].bool()
        w = lambda name: tensors[f'{prefix}experts.expert_{e}.{name}.weight']
        out[rows] = F.linear(F.relu(F.linear(x[rows], w('wi'))), w('wo'))
    return probs.max(dim=-1, keepdim=True).values * out, kept


def listed(tensors):
    return {name: {'shape': list(t.shape), 'values': t.flatten().tolist()} for name, t in tensors.items()}


# Mixtral: D 6, H 10, E 4, K 2, 7 tokens
mixtral_config = {'hidden_size': 6, 'intermediate_size': 10, 'num_local_experts': 4, 'num_experts_per_tok': 2}
mp = 'model.layers.0.block_sparse_moe.'
D, H, E = 6, 10, 4
mixtral_tensors = {mp + 'gate.weight': torch.randn(E, D)}
for e in range(E):
    mixtral_tensors[f'{mp}experts.{e}.w1.weight'] = torch.randn(H, D) * 0.4
    mixtral_tensors[f'{mp}experts.{e}.w2.weight'] = torch.randn(D, H) * 0.4
    mixtral_tensors[f'{mp}experts.{e}.w3.weight'] = torch.randn(H, D) * 0.4
mx = torch.randn(7, D)
my = mixtral_block(mx, mixtral_tensors, mp, E, 2)

# Switch: D 6, H 10, E 4, one row of S 8 tokens, expert_capacity 2 (some tokens dropped)
switch_config = {'d_model': 6, 'd_ff': 10, 'num_experts': 4, 'expert_capacity': 2, 'router_jitter_noise': 0.0}
sp = 'encoder.block.1.layer.1.mlp.'
switch_tensors = {sp + 'router.classifier.weight': torch.randn(E, D)}
for e in range(E):
    switch_tensors[f'{sp}experts.expert_{e}.wi.weight'] = torch.randn(H, D) * 0.4
    switch_tensors[f'{sp}experts.expert_{e}.wo.weight'] = torch.randn(D, H) * 0.4
sx = torch.randn(1, 8, D)
sy, kept = switch_mlp(sx, switch_tensors, sp, E, 2)

out = {
    'mixtral': {'config': mixtral_config, 'prefix': mp, 'tensors': listed(mixtral_tensors), 'x': mx.tolist(), 'y': my.tolist()},
    'switch': {'config': switch_config, 'prefix': sp, 'tensors': listed(switch_tensors), 'x': sx[0].tolist(), 'y': sy[0].tolist(), 'kept': kept[0].tolist()},
    'torch': torch.__version__,
}
Path(__file__).with_suffix('.json').write_text(json.dumps(out) + '\n')
print(f"mixtral y[0][:3] {my[0, :3].tolist()}; switch kept {kept[0].tolist()}")

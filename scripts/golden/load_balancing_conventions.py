"""Golden values for moekit's load-balancing and slot-order conventions (issue 19).

Run with Debian's PyTorch 1.13: `/usr/bin/python3 scripts/golden/load_balancing_conventions.py`.
Writes `scripts/golden/load_balancing_conventions.json`, read by the TypeScript tests (CI installs no torch).

The functions below restate, in our own code, the arithmetic of:
- microsoft/DeepSpeed deepspeed/moe/sharded_moe.py @ 38327e07f6cd39b63418f60cedd1651b0be3e7c3:
  `_capacity` and `topkgating` (l_aux; `drop_policy='position'` locations and kept mask;
  `drop_policy='probs'` kept mask);
- huggingface/transformers src/transformers/models/mixtral/modeling_mixtral.py
  @ af3efdd71ee5b568dfdb71bb41d316df830147af: `load_balancing_loss_func` (one layer, no attention mask);
- huggingface/transformers src/transformers/models/switch_transformers/modeling_switch_transformers.py
  @ af3efdd71ee5b568dfdb71bb41d316df830147af: `load_balancing_loss_func` over `[G, T/G, E]`.
"""
import json
import math
import os

import torch
import torch.nn.functional as F


def deepspeed_capacity(num_tokens, num_experts, capacity_factor, k, min_capacity):
    # _capacity: ceil(T / E * factor) in float32, where topkgating passes factor * k; at least min_capacity
    factor = torch.tensor(capacity_factor * k)
    capacity = torch.ceil(torch.tensor(num_tokens / num_experts) * factor).to(torch.int64)
    return max(int(capacity), min_capacity)


def deepspeed_topk(logits, k, capacity):
    """topkgating: the aux loss over all k choices (÷k), and the kept masks of both drop policies."""
    num_experts = logits.shape[1]
    top_gate, top_idx = torch.topk(logits, k=k, dim=1)  # [T, k]
    gates = F.softmax(logits, dim=1)  # [T, E]
    mask = torch.zeros_like(gates).scatter(1, top_idx, 1.0)  # [T, E] all choices
    me = gates.mean(0)
    ce = mask.mean(0)
    l_aux = (me * ce).mean() * num_experts * num_experts / k
    # 'position': one running count over the [T, E] mask of all choices, in token order
    locations = torch.cumsum(mask, 0) - 1  # [T, E]
    kept_position = mask * (locations < capacity)
    # 'probs': per expert, keep the `capacity` pairs of highest (masked) gate logit
    masked = torch.zeros_like(logits).scatter(1, top_idx, top_gate)
    cap_idx = torch.topk(masked, k=capacity, dim=0).indices
    kept_probs = mask * torch.zeros_like(logits).scatter(0, cap_idx, 1.0)
    return top_idx, gates, l_aux, locations, kept_position, kept_probs


def mixtral_loss(gate_logits, num_experts, top_k):
    """HF Mixtral load_balancing_loss_func for one layer: Σ over the k choices of f, times E."""
    routing_weights = F.softmax(gate_logits, dim=-1)
    _, selected = torch.topk(routing_weights, top_k, dim=-1)
    expert_mask = F.one_hot(selected, num_experts)  # [T, k, E]
    tokens_per_expert = expert_mask.float().mean(0)  # [k, E]
    router_prob_per_expert = routing_weights.mean(0)  # [E]
    return (tokens_per_expert * router_prob_per_expert.unsqueeze(0)).sum() * num_experts


def switch_hf_loss(router_probs, expert_indices):
    """HF Switch load_balancing_loss_func: [G, S, E] probs, [G, S, k] choices; mean over groups and experts."""
    num_experts = router_probs.shape[-1]
    expert_mask = F.one_hot(expert_indices, num_experts).max(dim=-2).values.float()  # [G, S, E]
    tokens = expert_mask.mean(-2)  # [G, E]
    probs = router_probs.mean(-2)  # [G, E]
    return (tokens * probs).mean() * num_experts ** 2


def main():
    torch.manual_seed(19)
    cases = []
    for (T, E, k) in [(12, 4, 1), (16, 6, 2), (24, 8, 3)]:
        logits = torch.randn(T, E) * 1.5
        capacity_factor = 0.75
        capacity = deepspeed_capacity(T, E, capacity_factor, k, 1)
        top_idx, gates, l_aux, locations, kept_position, kept_probs_raw = deepspeed_topk(logits, k, capacity)
        # 'probs' ranks the chosen logits of each expert against zeros for the tokens that did not choose
        # it, so a chosen pair with a negative logit loses to an empty entry; on logits shifted above 0
        # (the same choices and gates) it keeps the `capacity` chosen pairs of highest logit, as moekit's
        # pairPriority does. Both are recorded.
        shift = 1.0 - float(logits.min())
        kept_probs = deepspeed_topk(logits + shift, k, capacity)[5]
        groups = {}
        for G in [1, 2, 4]:
            # HF Switch counts every choice a token made (max over its one-hots); with k = 1 that is Switch's first choice
            switch_first = switch_hf_loss(gates.reshape(G, T // G, E), top_idx[:, :1].reshape(G, T // G, 1))
            switch_all = switch_hf_loss(gates.reshape(G, T // G, E), top_idx.reshape(G, T // G, k))
            groups[str(G)] = {'switchFirstChoice': switch_first.item(), 'switchAllChoices': switch_all.item()}
        # the slot of each (token, choice) under 'position' (-1 when dropped), in moekit's [T, k] layout
        slot = [[int(locations[t, e]) if kept_position[t, e] > 0 else -1 for e in top_idx[t].tolist()] for t in range(T)]
        kept_probs_pairs = [[int(kept_probs[t, e]) for e in top_idx[t].tolist()] for t in range(T)]
        kept_probs_raw_pairs = [[int(kept_probs_raw[t, e]) for e in top_idx[t].tolist()] for t in range(T)]
        # DeepSpeed's slots after the 'probs' mask: cumsum(mask, 0) - 1 over the kept pairs, token order
        probs_locations = torch.cumsum(kept_probs, 0) - 1
        probs_slot = [[int(probs_locations[t, e]) if kept_probs[t, e] > 0 else -1 for e in top_idx[t].tolist()] for t in range(T)]
        cases.append({
            'numTokens': T, 'numExperts': E, 'k': k,
            'logits': logits.tolist(),
            'probs': gates.tolist(),
            'expertIndex': top_idx.tolist(),
            'losses': {
                'deepspeed': l_aux.item(),
                'mixtral': mixtral_loss(logits, E, k).item(),
                'switchHf': groups,
            },
            'deepspeedPosition': {'capacityFactor': capacity_factor, 'minCapacity': 1, 'capacity': capacity, 'slot': slot},
            'deepspeedProbs': {'capacity': capacity, 'logitShift': shift, 'kept': kept_probs_pairs, 'slot': probs_slot, 'keptUnshifted': kept_probs_raw_pairs},
        })
    out = {
        'sources': [
            'microsoft/DeepSpeed deepspeed/moe/sharded_moe.py @ 38327e07f6cd39b63418f60cedd1651b0be3e7c3 (_capacity, topkgating)',
            'huggingface/transformers src/transformers/models/mixtral/modeling_mixtral.py @ af3efdd71ee5b568dfdb71bb41d316df830147af (load_balancing_loss_func)',
            'huggingface/transformers src/transformers/models/switch_transformers/modeling_switch_transformers.py @ af3efdd71ee5b568dfdb71bb41d316df830147af (load_balancing_loss_func)',
        ],
        'generator': 'scripts/golden/load_balancing_conventions.py, torch ' + torch.__version__ + ', seed 19',
        'cases': cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'load_balancing_conventions.json')
    with open(path, 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()

#!/usr/bin/python3
"""The PyTorch peer of moekit's benchmark (issue 22): the same MoE layer, written the efficient PyTorch way.

The layer: T tokens of width D, a softmax top-k router (one Linear D -> E, no bias; the k chosen
probabilities renormalised to sum to 1, as Mixtral's router and moekit's TopKRouter with
gates 'topKSoftmax'), E ReLU experts D -> H -> D without bias, capacity C = ceil(cf * k * T / E)
rows per expert with drops in GShard's order (all first choices before any second choice, each in
token order: Lepikhin et al. 2020, https://arxiv.org/abs/2006.16668, Alg. 1), and Switch's
load-balancing loss 0.01 * E * sum_i f_i * P_i (Fedus et al. 2021, https://arxiv.org/abs/2101.03961,
Eq. 4: f_i the share of tokens whose first choice is expert i, P_i the mean router probability).

The expert computation follows the sort-and-split pattern of MegaBlocks' reference ("dMoE" without
its block-sparse kernels: https://github.com/databricks/megablocks, `ops.sort` / `ops.histogram` /
`ops.gather` then one GEMM per expert) and of Hugging Face's `MixtralSparseMoeBlock.forward`
(one matmul per expert over only its own rows, `index_add_` back into the output): the kept
(token, expert) pairs are sorted by expert, their rows gathered once, each expert multiplies its own
contiguous slice, and the weighted results are scattered back with one `index_add_`.

Modes, each printed as one JSON line on stdout:
  train  forward + backward to every weight and to the input + SGD (lr 1e-6), loss = mean(y^2) + aux:
         the step moekit's benchmark times;
  infer  forward under torch.inference_mode().
For each: the median wall time of `--runs` steps after `--warmup`, cores busy (process CPU time /
wall time over the timed steps, resource.getrusage), and the peak bytes of one step: the bytes of
every tensor live before the step (input, weights) plus the highest running sum of the allocations
and frees torch.profiler records with profile_memory=True, in time order. Allocations are counted
per storage, so views count once, as moekit's "distinct live buffers".

Also printed: the BLAS libraries mapped into this process (from /proc/self/maps) and the matMul rate
of [1024,512]x[512,1024] in torch and in numpy.

  /usr/bin/python3 apps/bench/peer/torch_moe.py --experts 8,64 --k 1,2 --runs 5
"""
import argparse
import json
import math
import os
import resource
import time

import numpy as np
import torch


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--tokens', type=int, default=4096)
    p.add_argument('--dim', type=int, default=512)
    p.add_argument('--hidden', type=int, default=1024)
    p.add_argument('--experts', default='8,64', help='comma-separated E values')
    p.add_argument('--k', default='1,2', help='comma-separated k values')
    p.add_argument('--capacity-factor', type=float, default=1.25)
    p.add_argument('--modes', default='train,infer')
    p.add_argument('--runs', type=int, default=5)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--skip-matmul', action='store_true')
    return p.parse_args(argv)


class TorchMoE(torch.nn.Module):
    """Softmax top-k router + E ReLU experts with capacity, sorted by expert, one matmul per expert."""

    def __init__(self, dim, hidden, num_experts, k, capacity_factor, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.k = k
        self.num_experts = num_experts
        self.capacity_factor = capacity_factor
        self.gate = torch.nn.Parameter(torch.randn(dim, num_experts, generator=g) / math.sqrt(dim))  # [D, E]
        # one weight pair per expert, as HF Mixtral's ModuleList of experts: each expert's gradient is
        # its own tensor (a stacked [E, D, H] weight would be sliced per expert, and its backward would
        # zero-fill a whole [E, D, H] gradient per slice, or stack E of them in a fresh 128 MB buffer)
        self.w1 = torch.nn.ParameterList([torch.randn(dim, hidden, generator=g) / math.sqrt(dim) for _ in range(num_experts)])  # E × [D, H]
        self.w2 = torch.nn.ParameterList([torch.randn(hidden, dim, generator=g) / math.sqrt(hidden) for _ in range(num_experts)])  # E × [H, D]

    def forward(self, x):  # x [T, D]
        T, E, K = x.shape[0], self.num_experts, self.k
        probs = torch.softmax(x @ self.gate, dim=-1)  # [T, E]
        top_p, top_i = torch.topk(probs, K, dim=-1)  # [T, K]
        gates = top_p / top_p.sum(-1, keepdim=True) if K > 1 else top_p  # [T, K] Mixtral's renormalisation
        # Switch's load-balancing loss (Fedus et al. 2021, Eq. 4) over first choices, weight 0.01.
        f = torch.bincount(top_i[:, 0], minlength=E).to(x.dtype) / T  # [E]
        aux = 0.01 * E * torch.sum(f * probs.mean(0))
        # GShard order (Alg. 1): choice-major, so every first choice takes a slot before any second.
        expert = top_i.t().reshape(-1)  # [K*T]
        weight = gates.t().reshape(-1)  # [K*T]
        token = torch.arange(T).repeat(K)  # [K*T]
        capacity = math.ceil(self.capacity_factor * K * T / E)
        order = torch.sort(expert, stable=True).indices  # [K*T] pairs grouped by expert, GShard order kept
        counts = torch.bincount(expert, minlength=E)  # [E]
        starts = torch.cumsum(counts, 0) - counts  # [E]
        slot = torch.arange(K * T) - starts[expert[order]]  # [K*T] position inside its expert
        kept = order[slot < capacity]  # [N] kept pairs, sorted by expert
        sizes = torch.clamp(counts, max=capacity).tolist()  # host ints, as every split-by-expert MoE
        rows = x[token[kept]]  # [N, D]
        outs = []
        for e, rows_e in enumerate(torch.split(rows, sizes)):
            if sizes[e] > 0:
                outs.append(torch.relu(rows_e @ self.w1[e]) @ self.w2[e])  # [n_e, D]
        y_kept = torch.cat(outs) * weight[kept].unsqueeze(1)  # [N, D]
        y = torch.zeros_like(x).index_add_(0, token[kept], y_kept)  # [T, D] dropped pairs add nothing
        return y, aux


def live_bytes(tensors):
    return sum(t.numel() * t.element_size() for t in tensors)


def peak_step_bytes(step, baseline):
    """Bytes live before the step plus the highest running sum of the profiler's allocations and frees."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    # kineto's raw events: one '[memory]' event per allocation (+bytes) and per free (-bytes)
    events = sorted((e for e in prof.profiler.kineto_results.events() if e.name() == '[memory]'), key=lambda e: e.start_us())
    live = peak = 0
    for e in events:
        live += e.nbytes()
        peak = max(peak, live)
    return baseline + peak


def time_steps(step, warmup, runs):
    for _ in range(warmup):
        step()
    times = []
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    w0 = time.perf_counter()
    for _ in range(runs):
        t = time.perf_counter()
        step()
        times.append((time.perf_counter() - t) * 1e3)
    wall = time.perf_counter() - w0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    return sorted(times)[len(times) // 2], times, cpu / wall


def bench_layer(args, E, k):
    torch.manual_seed(1)
    x = torch.randn(args.tokens, args.dim, requires_grad=True)  # [T, D]
    moe = TorchMoE(args.dim, args.hidden, E, k, args.capacity_factor)
    params = [x, *moe.parameters()]
    sgd = torch.optim.SGD(params, lr=1e-6)

    def train():
        sgd.zero_grad(set_to_none=True)
        y, aux = moe(x)
        loss = torch.mean(y * y) + aux
        loss.backward()
        sgd.step()
        return loss.item()

    def infer():
        with torch.inference_mode():
            y, aux = moe(x)
            return y.sum().item()

    config = {'numTokens': args.tokens, 'dim': args.dim, 'hidden': args.hidden, 'numExperts': E, 'k': k, 'capacityFactor': args.capacity_factor}
    for mode in args.modes.split(','):
        step = train if mode == 'train' else infer
        ms, runs, cores = time_steps(step, args.warmup, args.runs)
        peak = peak_step_bytes(step, live_bytes(params))
        print(json.dumps({'kind': 'layer', 'config': config, 'mode': mode, 'ms': ms, 'runs': runs, 'coresBusy': cores, 'peakMB': peak / 2 ** 20}), flush=True)


def matmul_rate(library):
    if library == 'numpy':
        a = np.random.rand(1024, 512).astype(np.float32)
        b = np.random.rand(512, 1024).astype(np.float32)
        mm = lambda: a @ b  # noqa: E731
    else:
        a = torch.rand(1024, 512)
        b = torch.rand(512, 1024)
        mm = lambda: a @ b  # noqa: E731
    ms, _, cores = time_steps(mm, 2, 15)
    version = np.__version__ if library == 'numpy' else torch.__version__
    return {'kind': 'matmul', 'library': f'{library} {version}', 'ms': ms, 'gflops': 2 * 1024 * 512 * 1024 / ms / 1e6, 'coresBusy': cores}


def blas_libraries():
    """The BLAS / LAPACK / OpenMP libraries this process has mapped, resolved through symlinks."""
    with open('/proc/self/maps') as maps:
        paths = {line.split()[-1] for line in maps if '/' in line and any(s in line for s in ('blas', 'lapack', 'gomp', 'mkl'))}
    return sorted({os.path.realpath(p) for p in paths})


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    if not args.skip_matmul:
        print(json.dumps(matmul_rate('torch')), flush=True)
        print(json.dumps(matmul_rate('numpy')), flush=True)
    env = {name: os.environ.get(name) for name in ('OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE', 'OMP_NUM_THREADS', 'OMP_WAIT_POLICY', 'LD_LIBRARY_PATH')}
    print(json.dumps({'kind': 'blas', 'libraries': blas_libraries(), 'torchThreads': torch.get_num_threads(), 'env': env}), flush=True)
    for E in map(int, args.experts.split(',')):
        for k in map(int, args.k.split(',')):
            bench_layer(args, E, k)


if __name__ == '__main__':
    main()

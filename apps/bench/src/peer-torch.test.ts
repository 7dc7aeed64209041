import { describe, expect, it } from 'vitest';
import { OPENBLAS_OPENMP_DIR, TORCH_SKIP_MESSAGE, parsePeerArgs, peerShapes, torchPeerEnv } from './peer-torch.js';

// The pure parts of `--peer torch`; the timings themselves are measured by `npm run bench -- --peer torch`.
describe('parsePeerArgs', () => {
  it('is undefined without --peer', () => {
    expect(parsePeerArgs(['--quick'])).toBeUndefined();
  });

  it('fills the issue defaults: 3 rounds of 5 runs, E ∈ {8, 64}, k ∈ {1, 2}, 2 threads', () => {
    expect(parsePeerArgs(['--peer', 'torch'])).toEqual({ peer: 'torch', rounds: 3, runs: 5, experts: [8, 64], ks: [1, 2], threads: 2, quick: false });
  });

  it('reads every option', () => {
    expect(parsePeerArgs(['--peer', 'torch', '--rounds', '5', '--runs', '7', '--experts', '16', '--k', '2', '--threads', '1'])).toEqual({ peer: 'torch', rounds: 5, runs: 7, experts: [16], ks: [2], threads: 1, quick: false });
  });

  it('rejects an unknown peer, fewer than 3 rounds and a bad list, naming the option and the value', () => {
    expect(() => parsePeerArgs(['--peer', 'jax'])).toThrow("--peer: expected 'torch', got 'jax'");
    expect(() => parsePeerArgs(['--peer'])).toThrow("--peer: expected 'torch', got nothing");
    expect(() => parsePeerArgs(['--peer', 'torch', '--rounds', '2'])).toThrow('--rounds: expected at least 3 (a median of per-round ratios), got 2');
    expect(() => parsePeerArgs(['--peer', 'torch', '--experts', '8,x'])).toThrow("--experts: expected positive integers separated by commas, got '8,x'");
  });
});

describe('peerShapes', () => {
  it('is the issue layer, T=4096 D=512 H=1024 cf=1.25, for every E × k', () => {
    const shapes = peerShapes(parsePeerArgs(['--peer', 'torch'])!);
    expect(shapes.map((s) => [s.numExperts, s.k])).toEqual([[8, 1], [8, 2], [64, 1], [64, 2]]);
    expect(shapes[0]).toEqual({ numTokens: 4096, dim: 512, hidden: 1024, numExperts: 8, k: 1, capacityFactor: 1.25 });
  });
});

describe('the torch process', () => {
  it('gets the OpenMP OpenBLAS first, passive OMP threads, and no OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE', () => {
    const env = torchPeerEnv({ OPENBLAS_CORETYPE: 'Haswell', OPENBLAS_L2_SIZE: '512', LD_LIBRARY_PATH: '/opt/lib', HOME: '/root' }, 2);
    expect(env).toEqual({ HOME: '/root', LD_LIBRARY_PATH: `${OPENBLAS_OPENMP_DIR}:/opt/lib`, OMP_NUM_THREADS: '2', OMP_WAIT_POLICY: 'PASSIVE' });
    expect(torchPeerEnv({}, 1).LD_LIBRARY_PATH).toBe(OPENBLAS_OPENMP_DIR);
  });

  it('says how to get torch when it is missing', () => {
    expect(TORCH_SKIP_MESSAGE).toBe("PyTorch peer skipped: install Debian's python3-torch (apt-get install -y python3-torch libopenblas0-openmp)");
  });
});

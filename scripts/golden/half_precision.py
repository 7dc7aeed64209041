"""Golden values for @moekit/hf's float16 / bfloat16 conversions (packages/hf/src/half-precision.ts).

PyTorch's own casts are the reference: `torch.Tensor.half()` and `torch.Tensor.bfloat16()` (round to
nearest, ties to even) and back with `.float()`. Run with Debian's torch:

    /usr/bin/python3 scripts/golden/half_precision.py

Writes scripts/golden/half_precision.json (commit it; CI does not install torch).
"""
import json
import math
import struct
from pathlib import Path

import torch

torch.manual_seed(0)
edge = [0.0, -0.0, 1.0, -1.0, 0.1, 1 / 3, 65504.0, 65519.99, 65520.0, 1e-8, 6e-8, 5.9604645e-08, 2.98e-08,
        6.1035156e-05, 6.09e-05, 1e30, -1e30, 3.4e38, 1.00048828125, 1.0009765625, 1.00146484375,
        2049.0, 2051.0, 1.00390625, 1.01171875, float('inf'), float('-inf')]
values = torch.tensor(edge + (torch.randn(200) * torch.exp(torch.randn(200) * 4)).tolist(), dtype=torch.float32)


def bits(t, dtype):
    """The 16 stored bits of each value, read back through an int16 view."""
    return [int(b) & 0xFFFF for b in t.to(dtype).view(torch.int16).tolist()]


def finite(x):
    return x if math.isfinite(x) else ('inf' if x > 0 else '-inf')


out = {
    'source': 'torch.Tensor.half() / .bfloat16() (PyTorch %s)' % torch.__version__,
    'float32': [finite(struct.unpack('<f', struct.pack('<f', v))[0]) for v in values.tolist()],
    'float16Bits': bits(values, torch.float16),
    'bfloat16Bits': bits(values, torch.bfloat16),
    'float16Back': [finite(v) for v in values.half().float().tolist()],
    'bfloat16Back': [finite(v) for v in values.bfloat16().float().tolist()],
}
Path(__file__).with_suffix('.json').write_text(json.dumps(out) + '\n')
print('wrote', Path(__file__).with_suffix('.json'), len(edge), 'edge cases +', len(values) - len(edge), 'random')

#!/usr/bin/env python3
"""Writes the torch.save files that internal/torchpickle's tests read, and what torch says they hold.

Run from this directory with a Python that has torch (1.13 wrote the committed files):

    /usr/bin/python3 make_testdata.py

tensors.pt   a state dict (OrderedDict with _metadata, as Module.state_dict() returns) of every
             supported dtype and the kinds of views real checkpoints contain: a transpose, slices
             at an offset into a shared storage, a tied pair, a scalar, an empty tensor, a Parameter
tensors.json for each name: dtype, shape and the values torch reads back (row-major), as the
             reference the Go reader is compared with
proto4.pt    a smaller state dict saved with pickle_protocol=4 (FRAME, MEMOIZE, STACK_GLOBAL)
proto4.json  its reference, as above
legacy.pt    the pre-1.6 format (_use_new_zipfile_serialization=False), which the reader rejects
"""
import collections
import json

import torch

DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
          torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
          torch.uint8: "U8", torch.bool: "BOOL"}


def reference(sd):
    out = {}
    for name, t in sd.items():
        t = t.detach()
        vals = t.reshape(-1).tolist()
        if t.dtype == torch.bool:
            vals = [int(v) for v in vals]
        out[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape), "values": vals}
    return out


def save(sd, stem, **kw):
    torch.save(sd, stem + ".pt", **kw)
    with open(stem + ".json", "w") as f:
        json.dump(reference(sd), f, indent=1, sort_keys=True)
        f.write("\n")


g = torch.Generator().manual_seed(0)
m = torch.randn(3, 5, generator=g)                     # one storage, several views of it
fused = torch.randn(4 * 3 + 4, generator=g)            # weight and bias packed in one storage
sd = collections.OrderedDict()
sd["matrix"] = m
sd["matrix_t"] = m.t()                                 # non-contiguous: strides (1, 5)
sd["row1"] = m[1]                                      # offset 5 into matrix's storage
sd["col2"] = m[:, 2]                                   # offset 2, stride 5
sd["fused.weight"] = fused[:12].view(4, 3)             # offset 0
sd["fused.bias"] = fused[12:]                          # offset 12
sd["tied"] = sd["matrix"]                              # the same tensor under a second name
sd["cube_perm"] = torch.randn(2, 3, 4, generator=g).permute(2, 0, 1)  # 3-d, strides (1, 12, 4)
sd["half"] = (torch.randn(6, generator=g) * 100).half()
sd["half_tiny"] = torch.tensor([1e-6, -3e-7, 6e-5, 0.0, 65504.0], dtype=torch.float16)  # subnormals
sd["bf16"] = torch.randn(2, 3, generator=g).bfloat16()
sd["f64"] = torch.randn(4, generator=g, dtype=torch.float64)
sd["i64"] = torch.arange(-3, 3, dtype=torch.int64)
sd["mask"] = torch.tril(torch.ones(3, 3, dtype=torch.bool))
sd["scalar"] = torch.tensor(-1e4)
sd["empty"] = torch.zeros(0, 3)
sd["param"] = torch.nn.Parameter(torch.randn(2, 2, generator=g))
sd._metadata = collections.OrderedDict([("", {"version": 1}), ("layer", {"version": 2})])
save(sd, "tensors")

small = collections.OrderedDict()
small["a"] = torch.randn(2, 3, generator=g)
small["a_t"] = small["a"].t()
small["h"] = torch.randn(3, generator=g).half()
save(small, "proto4", pickle_protocol=4)

torch.save(small, "legacy.pt", _use_new_zipfile_serialization=False)

#!/usr/bin/env python3
"""Writes hf-variants/: the Hugging Face GPT-2 fixture (../shared/testdata/hf-gpt2-tiny) in the
other layouts that model.LoadHF reads, for TestHFVariants.

The fixture's vocabulary is GPT-2's (50257 rows of wte, 6.4 MB), too large to commit three more
copies of, so every variant keeps only the first VOCAB rows of wte and says vocab_size VOCAB in its
config.json; every other tensor is the fixture's, value for value, except where a variant stores
it in float16 or bfloat16 (listed below), where it is the fixture's value rounded by torch.

  pytorch/              pytorch_model.bin written by torch.save of an OrderedDict state dict (with
                        _metadata, as Module.state_dict() returns): "transformer." names, the tied
                        lm_head.weight as the same tensor as wte (one shared storage), c_attn of
                        layer 0 as views into one storage holding bias then weight (the weight at
                        an offset), c_fc of layer 1 as a transposed (non-contiguous) view, wpe in
                        float16, and the bool/float attention buffers older checkpoints carry.
  pytorch-sharded/      pytorch_model.bin.index.json and two torch.save'd plain-dict shards, names
                        without the prefix (as openai-community/gpt2), h.1.attn.c_proj.weight in
                        bfloat16.
  safetensors-sharded/  model.safetensors.index.json and two float32 safetensors shards, as
                        save_pretrained writes with max_shard_size.

Run from anywhere with Debian's PyTorch (1.13 wrote the committed files):

  /usr/bin/python3 model/testdata/make_hf_variants.py [FIXTURE_DIR]
"""
import collections
import json
import os
import struct
import sys

import numpy as np
import torch

VOCAB = 64
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    HERE, os.pardir, os.pardir, os.pardir, "shared", "testdata", "hf-gpt2-tiny")
OUT = os.path.join(HERE, "hf-variants")

ST_DTYPES = {"F32": np.float32, "F16": np.float16}


def read_safetensors(path):
    """Parses a safetensors file by hand: 8-byte length, JSON header, raw little-endian data."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop("__metadata__", None)
    data = raw[8 + n:]
    out = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        arr = np.frombuffer(data[begin:end], dtype=ST_DTYPES[e["dtype"]]).reshape(e["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


def write_safetensors(path, tensors):
    """Writes float32 tensors in name order, the header padded to 8 bytes as the reference does."""
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        b = tensors[name].contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def write_config(d):
    with open(os.path.join(FIXTURE, "config.json")) as f:
        cfg = json.load(f)
    cfg["vocab_size"] = VOCAB
    cfg["bos_token_id"] = cfg["eos_token_id"] = VOCAB - 1
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")


def write_index(d, index_name, shards):
    """shards: file name -> {tensor name: tensor}. Writes the index save_pretrained writes."""
    weight_map, total = {}, 0
    for file, ts in shards.items():
        for name, t in ts.items():
            weight_map[name] = file
            total += t.numel() * t.element_size()
    with open(os.path.join(d, index_name), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, f, indent=2)
        f.write("\n")


def split(names):
    """Embeddings and layer 0 in the first shard, the rest in the second."""
    first = [n for n in names if ".h.1." not in "." + n and "ln_f" not in n and "lm_head" not in n]
    return first, [n for n in names if n not in first]


src = read_safetensors(os.path.join(FIXTURE, "model.safetensors"))
src["transformer.wte.weight"] = src["transformer.wte.weight"][:VOCAB].clone()
n_layer = 2
n_pos = src["transformer.wpe.weight"].shape[0]

# pytorch/: one torch.save'd state dict, with views and dtypes real checkpoints have.
sd = collections.OrderedDict()
for name, t in src.items():
    sd[name] = t.clone()
sd["transformer.wpe.weight"] = sd["transformer.wpe.weight"].half()
w, b = src["transformer.h.0.attn.c_attn.weight"], src["transformer.h.0.attn.c_attn.bias"]
fused = torch.cat([b, w.reshape(-1)])
sd["transformer.h.0.attn.c_attn.bias"] = fused[:b.numel()]
sd["transformer.h.0.attn.c_attn.weight"] = fused[b.numel():].view(w.shape)
fc = src["transformer.h.1.mlp.c_fc.weight"]
sd["transformer.h.1.mlp.c_fc.weight"] = fc.t().contiguous().t()
assert not sd["transformer.h.1.mlp.c_fc.weight"].is_contiguous()
sd["lm_head.weight"] = sd["transformer.wte.weight"]
mask = torch.tril(torch.ones(n_pos, n_pos, dtype=torch.bool)).view(1, 1, n_pos, n_pos)
for i in range(n_layer):
    sd[f"transformer.h.{i}.attn.bias"] = mask
    sd[f"transformer.h.{i}.attn.masked_bias"] = torch.tensor(-1e4)
sd = collections.OrderedDict(sorted(sd.items()))
sd._metadata = collections.OrderedDict([("", {"version": 1}), ("transformer", {"version": 1})])
d = os.path.join(OUT, "pytorch")
write_config(d)
torch.save(sd, os.path.join(d, "pytorch_model.bin"))

# pytorch-sharded/: two torch.save'd shards named by pytorch_model.bin.index.json.
bare = {n[len("transformer."):]: t for n, t in src.items()}
bare["h.1.attn.c_proj.weight"] = bare["h.1.attn.c_proj.weight"].bfloat16()
d = os.path.join(OUT, "pytorch-sharded")
write_config(d)
shards = {}
for k, names in enumerate(split(sorted(bare))):
    file = f"pytorch_model-{k + 1:05d}-of-00002.bin"
    shards[file] = {n: bare[n] for n in names}
    torch.save(shards[file], os.path.join(d, file))
write_index(d, "pytorch_model.bin.index.json", shards)

# safetensors-sharded/: two safetensors shards named by model.safetensors.index.json.
d = os.path.join(OUT, "safetensors-sharded")
write_config(d)
shards = {}
for k, names in enumerate(split(sorted(src))):
    file = f"model-{k + 1:05d}-of-00002.safetensors"
    shards[file] = {n: src[n] for n in names}
    write_safetensors(os.path.join(d, file), shards[file])
write_index(d, "model.safetensors.index.json", shards)

total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(OUT) for f in fs)
print(f"wrote {OUT}: {total} bytes")

#!/usr/bin/env python3
"""Writes hf-llama-variants/: two more members of the Llama family in Hugging Face's layout, with
their outputs, for TestHFLlamaParityOtherMembers. They cover what ../shared/testdata/hf-llama-tiny
and hf-qwen3-tiny do not:

  llama3-biased/  LlamaForCausalLM with Llama 3.1's rope scaling ("llama3", with wavelengths on
                  all three sides of the blend), attention_bias and mlp_bias true, one KV head
                  for four query heads, an untied head (lm_head.weight stored), eos a list.
  qwen2/          Qwen2ForCausalLM: biases on q_proj, k_proj and v_proj only, a tied head,
                  rope_theta 1e6, no sliding window in use.

The model is written here from the fixtures' README (../shared/testdata/hf-llama-tiny/README.md),
following transformers' modeling_llama and modeling_qwen2 as they compute in float32 on a CPU
(the rotary angles as float32 products of float32 frequencies, the llama3 rescale in float32),
not from goformer's code. Each model is trained for a few hundred steps to continue counting
sequences, so that greedy decoding has clear answers, then the reference is taken as the
fixtures' README describes reference.safetensors: logits, loss, every gradient, three AdamW steps
(lr 1e-3, betas (0.9, 0.95), eps 1e-8, weight decay 0.1 on tensors of 2 or more dimensions,
gradient norm clipped to 1.0; the weights after them for every third parameter) and 12 greedy
tokens.

Run with Debian's PyTorch (1.13 wrote the committed files):

  /usr/bin/python3 model/testdata/make_llama_variants.py
"""
import json
import math
import os
import struct

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hf-llama-variants")

VARIANTS = {
    "llama3-biased": dict(
        config={
            "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 37,
            "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 1, "head_dim": 16, "hidden_act": "silu",
            "max_position_embeddings": 64, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
            "rope_scaling": {"rope_type": "llama3", "factor": 4.0, "low_freq_factor": 1.0,
                             "high_freq_factor": 8.0, "original_max_position_embeddings": 64},
            "tie_word_embeddings": False, "attention_bias": True, "mlp_bias": True,
            "bos_token_id": 1, "eos_token_id": [2, 3], "torch_dtype": "float32",
            "initializer_range": 0.02, "use_cache": True, "attention_dropout": 0.0, "pretraining_tp": 1,
        },
        qkv_bias=True, o_bias=True, mlp_bias=True, seed=11),
    "qwen2": dict(
        config={
            "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 41,
            "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
            "num_attention_heads": 4, "num_key_value_heads": 2, "hidden_act": "silu",
            "max_position_embeddings": 64, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
            "rope_scaling": None, "tie_word_embeddings": True, "use_sliding_window": False,
            "sliding_window": 64, "max_window_layers": 2, "bos_token_id": 1, "eos_token_id": 2,
            "torch_dtype": "float32", "initializer_range": 0.02, "use_cache": True,
            "attention_dropout": 0.0,
        },
        qkv_bias=True, o_bias=False, mlp_bias=False, seed=12),
}


def param_shapes(c, v):
    """The parameters in transformers' order, with their shapes and whether they are biases."""
    hd = c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]
    h, nh, nkv, ff = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"], c["intermediate_size"]
    out = [("model.embed_tokens.weight", (c["vocab_size"], h))]
    for i in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % i
        out.append((p + "input_layernorm.weight", (h,)))
        for name, rows, bias in (("q_proj", nh * hd, v["qkv_bias"]), ("k_proj", nkv * hd, v["qkv_bias"]),
                                 ("v_proj", nkv * hd, v["qkv_bias"]), ("o_proj", h, v["o_bias"])):
            cols = h if name != "o_proj" else nh * hd
            out.append((p + "self_attn." + name + ".weight", (rows, cols)))
            if bias:
                out.append((p + "self_attn." + name + ".bias", (rows,)))
        out.append((p + "post_attention_layernorm.weight", (h,)))
        for name, rows, cols in (("gate_proj", ff, h), ("up_proj", ff, h), ("down_proj", h, ff)):
            out.append((p + "mlp." + name + ".weight", (rows, cols)))
            if v["mlp_bias"]:
                out.append((p + "mlp." + name + ".bias", (rows,)))
    out.append(("model.norm.weight", (h,)))
    if not c["tie_word_embeddings"]:
        out.append(("lm_head.weight", (c["vocab_size"], h)))
    return out


def inv_freq(c, hd):
    """transformers' _compute_default_rope_parameters and _compute_llama3_parameters."""
    base = c["rope_theta"]
    inv = 1.0 / (base ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    s = c.get("rope_scaling")
    if not s:
        return inv
    assert s["rope_type"] == "llama3"
    factor, lo_f, hi_f, old = s["factor"], s["low_freq_factor"], s["high_freq_factor"], s["original_max_position_embeddings"]
    low_wavelen, high_wavelen = old / lo_f, old / hi_f
    wavelen = 2 * math.pi / inv
    inv_l = torch.where(wavelen > low_wavelen, inv / factor, inv)
    smooth = (old / wavelen - lo_f) / (hi_f - lo_f)
    smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
    medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
    assert (wavelen < high_wavelen).any() and medium.any() and (wavelen > low_wavelen).any(), "every branch of the rescale"
    return torch.where(medium, smoothed, inv_l)


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def rms_norm(x, w, eps):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + eps))


def forward(P, c, ids):
    """logits (B, T, V) of the README's model."""
    B, T = ids.shape
    h, nh, nkv = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
    hd = c.get("head_dim") or h // nh
    eps = c["rms_norm_eps"]
    freqs = torch.arange(T).float()[:, None] * inv_freq(c, hd)[None, :]  # (T, hd/2), float32
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    lin = lambda x, n: F.linear(x, P[n + ".weight"], P.get(n + ".bias"))
    x = P["model.embed_tokens.weight"][ids]
    mask = torch.full((T, T), float("-inf")).triu(1)
    for i in range(c["num_hidden_layers"]):
        p = "model.layers.%d." % i
        a = rms_norm(x, P[p + "input_layernorm.weight"], eps)
        q = lin(a, p + "self_attn.q_proj").view(B, T, nh, hd).transpose(1, 2)
        k = lin(a, p + "self_attn.k_proj").view(B, T, nkv, hd).transpose(1, 2)
        v = lin(a, p + "self_attn.v_proj").view(B, T, nkv, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(nh // nkv, dim=1)  # query head j reads KV head j // (nh/nkv)
        v = v.repeat_interleave(nh // nkv, dim=1)
        s = q @ k.transpose(2, 3) / math.sqrt(hd) + mask
        y = (s.softmax(-1) @ v).transpose(1, 2).reshape(B, T, nh * hd)
        x = x + lin(y, p + "self_attn.o_proj")
        a = rms_norm(x, P[p + "post_attention_layernorm.weight"], eps)
        x = x + lin(F.silu(lin(a, p + "mlp.gate_proj")) * lin(a, p + "mlp.up_proj"), p + "mlp.down_proj")
    x = rms_norm(x, P["model.norm.weight"], eps)
    head = P["model.embed_tokens.weight"] if c["tie_word_embeddings"] else P["lm_head.weight"]
    return x @ head.t()


def loss_of(P, c, ids):
    logits = forward(P, c, ids)
    return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))


def counting(g, V, B, T):
    start = torch.randint(0, V, (B, 1), generator=g)
    return (start + torch.arange(T)[None, :]) % V


def adamw(P):
    decay = [p for p in P.values() if p.dim() >= 2]
    rest = [p for p in P.values() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": rest, "weight_decay": 0.0}],
                             lr=1e-3, betas=(0.9, 0.95), eps=1e-8)


def write_safetensors(path, tensors):
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous()
        dtype, data = ("I64", t.numpy().astype("<i8").tobytes()) if t.dtype == torch.int64 else ("F32", t.float().numpy().astype("<f4").tobytes())
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def make(name, v):
    print(name)
    c = v["config"]
    torch.manual_seed(v["seed"])
    g = torch.Generator().manual_seed(v["seed"])
    P = {}
    for n, shape in param_shapes(c, v):
        if n.endswith("norm.weight"):
            t = 1 + 0.2 * torch.randn(shape)  # not all ones: a loader that skips a norm is seen
        elif n.endswith(".bias"):
            t = 0.1 * torch.randn(shape)
        else:
            t = 0.02 * torch.randn(shape) if n != "model.embed_tokens.weight" else 0.5 * torch.randn(shape)
        P[n] = t.requires_grad_()
    V = c["vocab_size"]
    opt = torch.optim.Adam(P.values(), lr=1e-2)
    for step in range(300):
        loss = loss_of(P, c, counting(g, V, 8, 16))
        opt.zero_grad()
        loss.backward()
        opt.step()
    print("  trained loss %.4f" % loss.item())

    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(c, f, indent=2)
    write_safetensors(os.path.join(d, "model.safetensors"), {n: p for n, p in P.items()})

    ref = {}
    ids = counting(g, V, 2, 11)
    ids[1, 5] = (ids[1, 5] + 7) % V  # one token off the count
    ref["input_ids"] = ids
    for p in P.values():
        p.grad = None
    logits = forward(P, c, ids)
    ref["logits"] = logits
    loss = loss_of(P, c, ids)
    loss.backward()
    ref["loss"] = loss.detach().reshape(1)
    for n, p in P.items():
        ref["grad." + n] = p.grad.clone()

    Q = {n: p.detach().clone().requires_grad_() for n, p in P.items()}
    opt = adamw(Q)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = loss_of(Q, c, ids)
        losses.append(loss.item())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(Q.values()), 1.0)
        opt.step()
    ref["adamw.losses"] = torch.tensor(losses)
    for i, (n, q) in enumerate(Q.items()):
        if i % 3 == 0 or n.startswith("lm_head"):  # some parameters, as the shared fixtures hold
            ref["adamw.after." + n] = q.detach()

    prompt = counting(g, V, 1, 4)
    out, margin = prompt.clone(), float("inf")
    with torch.no_grad():
        for _ in range(12):
            last = forward(P, c, out)[0, -1]
            top = last.topk(2).values
            margin = min(margin, (top[0] - top[1]).item())
            out = torch.cat((out, last.argmax().reshape(1, 1)), dim=1)
    ref["greedy.prompt"], ref["greedy.output"] = prompt, out
    print("  loss %.4f, adamw %s, greedy %s, smallest margin %.3f" % (ref["loss"].item(), losses, out.tolist(), margin))
    write_safetensors(os.path.join(d, "reference.safetensors"), ref)


if __name__ == "__main__":
    for name, v in VARIANTS.items():
        make(name, v)

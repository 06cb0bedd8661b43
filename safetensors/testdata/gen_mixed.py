# Writes mixed.safetensors, a small file with one tensor of each dtype the Go reader decodes,
# using only Python's struct and json modules: an encoder independent of the Go code under test.
# Run from this directory: python3 gen_mixed.py
import json, struct

tensors = [  # name, dtype, shape, struct format, values
    ("f16", "F16", [2, 3], "<6e", [1.0, -2.0, 65504.0, 2.0**-24, 0.333251953125, -0.0]),
    ("bf16", "BF16", [4], None, [1.0, -2.0, 3.140625, 2.0**-133]),
    ("f64", "F64", [2], "<2d", [0.1, -1e10]),
    ("f32_scalar", "F32", [], "<f", [42.5]),
    ("f32_empty", "F32", [0, 3], "", []),
    ("i64", "I64", [2, 2], "<4q", [1, -2, 2**40, 50256]),
    ("i32", "I32", [3], "<3i", [-7, 0, 16777216]),
    ("u8", "U8", [2], "<2B", [0, 255]),
    ("bool", "BOOL", [3], "<3B", [1, 0, 1]),
]
header, data = {"__metadata__": {"format": "pt", "note": "<a&b>"}}, b""
for name, dtype, shape, fmt, vals in tensors:
    if dtype == "BF16":  # bfloat16 is the top 16 bits of a float32; these values truncate exactly
        raw = b"".join(struct.pack("<H", struct.unpack("<I", struct.pack("<f", v))[0] >> 16) for v in vals)
    else:
        raw = struct.pack(fmt, *vals)
    header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
    data += raw
h = json.dumps(header).encode()
h += b" " * (-len(h) % 8)
with open("mixed.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + data)

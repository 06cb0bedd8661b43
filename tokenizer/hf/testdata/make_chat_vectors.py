"""Writes DIR/chat_template_vectors.jsonl: the conversations of CONVERSATIONS.jsonl (any
chat_template_vectors.jsonl) rendered with DIR/tokenizer_config.json's chat template as transformers'
apply_chat_template renders it (Jinja2's sandbox with trim_blocks, lstrip_blocks, the loop-controls
extension and raise_exception, given messages, add_generation_prompt, bos_token and eos_token).

usage: python3 make_chat_vectors.py DIR CONVERSATIONS.jsonl   (needs the jinja2 package)
"""
import json
import os
import sys

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def content(token):
    return token["content"] if isinstance(token, dict) else token


def main(directory, conversations):
    with open(os.path.join(directory, "tokenizer_config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.globals["raise_exception"] = raise_exception
    template = env.from_string(cfg["chat_template"])
    out = []
    with open(conversations, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            v = json.loads(line)
            text = template.render(messages=v["messages"], add_generation_prompt=v["add_generation_prompt"],
                                   bos_token=content(cfg.get("bos_token")), eos_token=content(cfg.get("eos_token")))
            out.append(json.dumps({"messages": v["messages"], "add_generation_prompt": v["add_generation_prompt"], "text": text}))
    with open(os.path.join(directory, "chat_template_vectors.jsonl"), "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

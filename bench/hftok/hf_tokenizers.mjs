// hf_tokenizers.mjs — single-text encode throughput of Hugging Face's tokenizers (npm package
// tokenizers, the Rust library through its Node binding) on the files BenchmarkHFEncode uses.
// usage: node hf_tokenizers.mjs TOKENIZERS_DIR TEXT_FILE...   (from a folder whose node_modules has tokenizers)
// For each tokenizer folder (holding tokenizer.json) and each file: 1 warm-up, then RUNS timed
// encodes of the whole text with add_special_tokens false; the token count shows both sides encode
// the same.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
const require = createRequire(path.join(process.cwd(), "noop.js"));
const { Tokenizer } = require("tokenizers");
const RUNS = Number(process.env.RUNS || 3);
const [root, ...files] = process.argv.slice(2);
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(`node ${process.version}; tokenizers ${require("tokenizers/package.json").version}; ${RUNS} timed runs after 1 warm-up; MB = 1e6 bytes`);
for (const name of fs.readdirSync(root).sort()) {
  const tj = path.join(root, name, "tokenizer.json");
  if (!fs.existsSync(tj)) continue;
  const tok = Tokenizer.fromFile(tj);
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8");
    const nbytes = Buffer.byteLength(text, "utf8");
    const enc = async () => (await tok.encode(text, null, { addSpecialTokens: false })).getIds().length;
    const n = await enc();
    const wall = [], cpu = [];
    for (let i = 0; i < RUNS; i++) {
      const c = process.cpuUsage(), t = performance.now();
      if ((await enc()) !== n) throw new Error("nondeterministic");
      wall.push((performance.now() - t) / 1000);
      const d = process.cpuUsage(c); cpu.push((d.user + d.system) / 1e6);
    }
    const m = median(wall), mc = median(cpu);
    console.log(`${name}/${path.basename(file, ".txt")}: tokens ${n} | wall median ${(m * 1000).toFixed(0)} ms = ${(nbytes / m / 1e6).toFixed(2)} MB/s | cpu median ${(mc * 1000).toFixed(0)} ms = ${(nbytes / mc / 1e6).toFixed(2)} MB/s`);
  }
}

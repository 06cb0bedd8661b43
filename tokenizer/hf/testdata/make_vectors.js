// Writes DIR/vectors.jsonl in the format of ../shared/testdata/hf-tokenizers/README.md for the
// tokenizer.json in DIR: for each text of TEXTS.jsonl (any vectors.jsonl), the ids that Hugging
// Face's tokenizers gives with and without special tokens, and their decoded text. With
// make_chat_vectors.py it turns any model directory into one that TestHFTokenizerVectors checks:
//
//   NODE_PATH=/tmp/hftok/node_modules node make_vectors.js DIR ../../../../shared/testdata/hf-tokenizers/qwen3/vectors.jsonl
//   python3 make_chat_vectors.py DIR ../../../../shared/testdata/hf-tokenizers/qwen3/chat_template_vectors.jsonl
//   GOFORMER_HF_TOKENIZERS=$(dirname DIR) go test ./tokenizer/hf -run HFTokenizerVectors
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('tokenizers');
const [dir, textsFrom] = process.argv.slice(2);
const texts = [...new Set(fs.readFileSync(textsFrom, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l).text))];
const tok = Tokenizer.fromFile(path.join(dir, 'tokenizer.json'));
(async () => {
  const out = [];
  for (const text of texts) {
    for (const special of [false, true]) {
      const ids = (await tok.encode(text, null, { addSpecialTokens: special })).getIds();
      out.push(JSON.stringify({ tokenizer: path.basename(dir), text, add_special_tokens: special, ids, decoded: await tok.decode(ids, false) }));
    }
  }
  fs.writeFileSync(path.join(dir, 'vectors.jsonl'), out.join('\n') + '\n');
})();

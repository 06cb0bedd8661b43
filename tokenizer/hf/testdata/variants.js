// Generates variants.jsonl.gz: variants of the two tokenizer.json files of ../shared/testdata/hf-tokenizers
// (pieces of the format that other Llama/Qwen/GPT-2/SmolLM/Mistral files use, put in place of the
// originals), each with the ids and decoded texts that Hugging Face's tokenizers gives for a set of
// texts (those of its vectors.jsonl up to 60 characters, and a few more). Run with the npm package tokenizers (0.23.2) installed:
//
//   mkdir -p /tmp/hftok && cd /tmp/hftok && npm install tokenizers@0.23.2
//   NODE_PATH=/tmp/hftok/node_modules node variants.js ../../../../shared/testdata/hf-tokenizers | gzip -9 -n > variants.jsonl.gz
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('tokenizers');

const root = process.argv[2];
const read = (name) => JSON.parse(fs.readFileSync(path.join(root, name, 'tokenizer.json'), 'utf8'));
const texts = (name) => [...new Set(fs.readFileSync(path.join(root, name, 'vectors.jsonl'), 'utf8')
  .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l).text).filter((t) => t.length <= 60))];

const bl = (addPrefixSpace, useRegex) => ({ type: 'ByteLevel', add_prefix_space: addPrefixSpace, trim_offsets: true, use_regex: useRegex });
const seq = (...p) => ({ type: 'Sequence', pretokenizers: p });
const split = (pattern, behavior, invert = false) => ({ type: 'Split', pattern, behavior, invert });
const cl100k = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const added = (id, content, o) => Object.assign({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: false }, o);
const meta = (scheme, splitIt) => ({ type: 'Metaspace', replacement: '\u2581', prepend_scheme: scheme, split: splitIt });
const extra = ['x <mask> y', 'a[SEP]   b', 'hello world', 'Say hello!', 'sayhello there', 'HELLO there', '\uff21\uff22 and AB and ab',
  '<|im_start|>hi<|im_end|>', '  <mask>  [SEP]  ', '<mask><mask>', 'a,b,,c 1,234', 'foo  bar\n\nbaz qux', '<s> hi </s>',
  'ΟΔΥΣΣΕΥΣ Σ aΣ ΣΑ Σ. İstanbul', '\ufb01 \ufb00 \u216b \u00bd \u2460 \u3000x'];

const variants = [
  ['qwen3', 'llama3-style', { pre_tokenizer: seq(split({ Regex: cl100k }, 'Isolated'), bl(false, false)), model: { ignore_merges: true },
    post_processor: { type: 'Sequence', processors: [bl(false, false), { type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<|im_start|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<|im_end|>', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<|im_start|>': { id: '<|im_start|>', ids: [151644], tokens: ['<|im_start|>'] }, '<|im_end|>': { id: '<|im_end|>', ids: [151645], tokens: ['<|im_end|>'] } } }] } }],
  ['qwen3', 'gpt2-style', { normalizer: null, pre_tokenizer: bl(true, true), decoder: bl(true, true) }],
  ['qwen3', 'smollm-style', { pre_tokenizer: seq({ type: 'Digits', individual_digits: true }, bl(false, true)) }],
  ['qwen3', 'split-merged-with-next', { pre_tokenizer: seq({ type: 'Digits', individual_digits: false }, split({ String: ' ' }, 'MergedWithNext'), bl(false, false)) }],
  ['qwen3', 'split-contiguous-previous', { pre_tokenizer: seq(split({ String: '\n' }, 'Contiguous'), split({ String: ' ' }, 'MergedWithPrevious'), bl(false, false)) }],
  ['qwen3', 'split-removed-inverted', { pre_tokenizer: seq(split({ String: ' ' }, 'Removed'), split({ String: 'o' }, 'Isolated', true), bl(false, false)) }],
  ['qwen3', 'split-regex-merged', { pre_tokenizer: seq(split({ Regex: cl100k }, 'MergedWithPrevious', true), bl(false, false)) }],
  ['qwen3', 'whitespace', { pre_tokenizer: seq({ type: 'Whitespace' }, bl(false, false)) }],
  ['qwen3', 'whitespace-split', { pre_tokenizer: seq({ type: 'WhitespaceSplit' }, bl(false, false)) }],
  ['qwen3', 'nfkc-lowercase-strip', { normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }, { type: 'Strip', strip_left: true, strip_right: true }] } }],
  ['qwen3', 'nfd', { normalizer: { type: 'NFD' } }],
  ['qwen3', 'nfkd', { normalizer: { type: 'NFKD' } }],
  ['qwen3', 'added-token-flags', { normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Lowercase' }] }, added_tokens_append: [
    added(151700, '<mask>', { lstrip: true, special: true }), added(151701, '[SEP]', { rstrip: true }),
    added(151702, 'hello', { single_word: true, normalized: true }), added(151703, '\uff21\uff22', { normalized: true, special: true })] }],
  ['sp-bpe-32k', 'metaspace-first', { normalizer: null, pre_tokenizer: meta('first', true), decoder: { type: 'Sequence', decoders: [{ type: 'ByteFallback' }, meta('first', true), { type: 'Fuse' }] } }],
  ['sp-bpe-32k', 'metaspace-always-unsplit', { normalizer: null, pre_tokenizer: meta('always', false), decoder: meta('always', false) }],
  ['sp-bpe-32k', 'metaspace-never', { normalizer: null, pre_tokenizer: meta('never', true), decoder: meta('never', true) }],
  ['sp-bpe-32k', 'unk-fused', { model: { byte_fallback: false } }],
  ['sp-bpe-32k', 'unk-unfused', { model: { byte_fallback: false, fuse_unk: false } }],
  ['sp-bpe-32k', 'bos-eos-strip-two', { post_processor: { type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
    pair: [{ Sequence: { id: 'A', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }],
    special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] }, '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] } } },
    decoder: { type: 'Sequence', decoders: [{ type: 'Replace', pattern: { String: '\u2581' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' }, { type: 'Strip', content: ' ', start: 2, stop: 0 }] } }],
  ['sp-bpe-32k', 'roberta-post', { post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 1], trim_offsets: true, add_prefix_space: false } }],
];

(async () => {
  for (const [base, name, patch] of variants) {
    const tj = read(base);
    for (const [k, v] of Object.entries(patch)) {
      if (k === 'model') Object.assign(tj.model, v);
      else if (k === 'added_tokens_append') tj.added_tokens.push(...v);
      else tj[k] = v;
    }
    const tok = Tokenizer.fromString(JSON.stringify(tj));
    const vectors = [];
    for (const text of [...texts(base), ...extra]) {
      const plain = (await tok.encode(text, null, { addSpecialTokens: false })).getIds();
      const special = (await tok.encode(text, null, { addSpecialTokens: true })).getIds();
      vectors.push({ text, ids: plain, ids_special: special, decoded: await tok.decode(special, false), decoded_skip: await tok.decode(special, true) });
    }
    process.stdout.write(JSON.stringify({ base, name, patch, vectors }) + '\n');
  }
})();

// Package benchtext makes the texts that the tokenizer benchmarks encode besides tiny Shakespeare:
// deterministic mixed-script prose and adversarial runs, the same bytes on every machine, so that
// bench/ scripts can give other tokenizers the same input.
package benchtext

import (
	"math/rand/v2"
	"strings"
)

// words of several scripts, with numbers, punctuation, code and emoji, roughly as web text mixes them.
var words = []string{
	"the", "of", "and", "tokenizer", "language", "model", "attention", "is", "all", "you", "need", "Hello",
	"world", "don't", "it's", "We're", "café", "naïve", "Straße", "Ångström", "Привет", "мир", "язык",
	"модель", "Γειά", "σου", "κόσμε", "مرحبا", "بالعالم", "שלום", "עולם", "नमस्ते", "दुनिया", "भाषा",
	"สวัสดี", "ชาวโลก", "你好", "世界", "今天", "天气", "很好", "语言模型", "東京", "日本語", "テキスト",
	"ひらがな", "안녕하세요", "세계", "한국어", "🙂", "🚀", "👍🏽", "❤️", "2024", "3.14159", "1,000,000",
	"42", "x²", "½", "€100", "fmt.Println(\"hi\")", "func(x int) error", "{\"key\": [1, 2]}", "a+b=c",
	"<div>", "https://example.com/a?b=c", "e\u0301", "—", "…", "«quotes»", "(parens)", "[brackets]",
}

// Mixed returns about n bytes of mixed-script text: words drawn with a fixed seed, separated by
// spaces, with punctuation, a newline now and then, and a blank line between paragraphs.
func Mixed(n int) string {
	rng := rand.New(rand.NewPCG(19, 2024))
	var b strings.Builder
	b.Grow(n + 64)
	for b.Len() < n {
		b.WriteString(words[rng.IntN(len(words))])
		switch r := rng.IntN(40); {
		case r == 0:
			b.WriteString(".\n\n")
		case r < 3:
			b.WriteString(",\n")
		case r < 6:
			b.WriteString(". ")
		case r < 8:
			b.WriteString(", ")
		default:
			b.WriteString(" ")
		}
	}
	return b.String()
}

// Adversarial returns the texts that make a naive BPE slow, each n bytes: one letter repeated,
// spaces, digits, and one CJK character repeated.
func Adversarial(n int) map[string]string {
	return map[string]string{
		"letter": strings.Repeat("a", n),
		"spaces": strings.Repeat(" ", n),
		"digits": strings.Repeat("7", n),
		"cjk":    strings.Repeat("字", n/3),
	}
}

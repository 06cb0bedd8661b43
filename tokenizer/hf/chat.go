package hf

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/ardanlabs/jinja"
)

// Message is one turn of a conversation.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// ChatTemplate is a model's chat template (Jinja, from tokenizer_config.json) with the special
// tokens it may name.
type ChatTemplate struct {
	Source   string
	BOS, EOS string // bos_token and eos_token ("" where the config has none)
	compiled *jinja.Template
}

// ErrNoChatTemplate is returned where there is no tokenizer_config.json or it has no chat_template.
var ErrNoChatTemplate = errors.New("hf: no chat_template in tokenizer_config.json")

// NewChatTemplate compiles a chat template.
func NewChatTemplate(source, bos, eos string) (*ChatTemplate, error) {
	c, err := jinja.Compile(source)
	if err != nil {
		return nil, fmt.Errorf("hf: chat template: %w", err)
	}
	return &ChatTemplate{Source: source, BOS: bos, EOS: eos, compiled: c}, nil
}

// ReadChatTemplateFile reads the chat template of a tokenizer_config.json.
func ReadChatTemplateFile(path string) (*ChatTemplate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cfg struct {
		ChatTemplate json.RawMessage `json:"chat_template"`
		BOS          json.RawMessage `json:"bos_token"`
		EOS          json.RawMessage `json:"eos_token"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if isNull(cfg.ChatTemplate) {
		return nil, ErrNoChatTemplate
	}
	var src string
	if err := json.Unmarshal(cfg.ChatTemplate, &src); err != nil {
		// A list of named templates: transformers uses the one named "default".
		var named []struct{ Name, Template string }
		if err := json.Unmarshal(cfg.ChatTemplate, &named); err != nil {
			return nil, fmt.Errorf("%s: chat_template is neither a string nor a list of named templates", path)
		}
		for _, n := range named {
			if n.Name == "default" {
				src = n.Template
			}
		}
		if src == "" {
			return nil, fmt.Errorf("%s: %w (no template named \"default\")", path, ErrNoChatTemplate)
		}
	}
	bos, err := tokenContent(cfg.BOS)
	if err != nil {
		return nil, fmt.Errorf("%s: bos_token: %w", path, err)
	}
	eos, err := tokenContent(cfg.EOS)
	if err != nil {
		return nil, fmt.Errorf("%s: eos_token: %w", path, err)
	}
	return NewChatTemplate(src, bos, eos)
}

// tokenContent reads a special token of tokenizer_config.json: a string, an object with "content",
// or null.
func tokenContent(raw json.RawMessage) (string, error) {
	if isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var obj struct {
		Content string `json:"content"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return "", err
	}
	return obj.Content, nil
}

// Render renders the conversation as transformers' apply_chat_template(messages, tokenize=False,
// add_generation_prompt=...) does.
func (c *ChatTemplate) Render(messages []Message, addGenerationPrompt bool) (string, error) {
	return c.RenderWith(messages, addGenerationPrompt, nil)
}

// RenderWith is Render with more template variables, as apply_chat_template passes its extra keyword
// arguments: {"enable_thinking": false} for Qwen3, {"tools": [...]} for templates that list tools.
// They cannot replace messages, add_generation_prompt, bos_token or eos_token.
func (c *ChatTemplate) RenderWith(messages []Message, addGenerationPrompt bool, vars map[string]any) (string, error) {
	msgs := make([]any, len(messages))
	for i, m := range messages {
		msgs[i] = map[string]any{"role": m.Role, "content": m.Content}
	}
	data := make(map[string]any, len(vars)+4)
	for k, v := range vars {
		data[k] = v
	}
	data["messages"] = msgs
	data["add_generation_prompt"] = addGenerationPrompt
	data["bos_token"] = c.BOS
	data["eos_token"] = c.EOS
	out, err := c.compiled.Render(data)
	if err != nil {
		return "", fmt.Errorf("hf: chat template: %w", err)
	}
	return out, nil
}

// ChatTemplate returns the chat template that Load found beside the tokenizer, or why there is none
// (ErrNoChatTemplate, or what made it unreadable).
func (t *Tokenizer) ChatTemplate() (*ChatTemplate, error) {
	if t.chat == nil && t.chatErr == nil {
		return nil, ErrNoChatTemplate
	}
	return t.chat, t.chatErr
}

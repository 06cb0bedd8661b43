package hf

import "fmt"

// postProcessor adds what a post_processor adds to the ids of one sequence when special tokens are
// asked for (<s> before Llama 2's text, nothing for byte-level models).
type postProcessor func(ids []int) []int

func buildPostProcessor(c *component) (postProcessor, error) {
	switch c.Type {
	case "ByteLevel":
		return func(ids []int) []int { return ids }, nil // it only trims offsets
	case "Sequence":
		var steps []postProcessor
		for _, raw := range c.Processors {
			sub, err := parseComponent(raw, "post_processor")
			if err != nil {
				return nil, err
			}
			p, err := buildPostProcessor(sub)
			if err != nil {
				return nil, err
			}
			steps = append(steps, p)
		}
		return func(ids []int) []int {
			for _, p := range steps {
				ids = p(ids)
			}
			return ids
		}, nil
	case "TemplateProcessing":
		return templateProcessor(c)
	case "BertProcessing", "RobertaProcessing":
		// Both put cls before and sep after a single sequence: [name, id] pairs.
		var cls, sep []int
		for _, f := range []struct {
			raw []any
			dst *[]int
		}{{c.Cls, &cls}, {c.Sep, &sep}} {
			if len(f.raw) != 2 {
				return nil, fmt.Errorf("hf: %s without its cls and sep tokens", c.Type)
			}
			id, ok := f.raw[1].(float64)
			if !ok || id < 0 || id != float64(int(id)) {
				return nil, fmt.Errorf("hf: %s: bad token id %v", c.Type, f.raw[1])
			}
			*f.dst = []int{int(id)}
		}
		return func(ids []int) []int {
			out := append(append(append(make([]int, 0, len(ids)+2), cls...), ids...), sep...)
			return out
		}, nil
	}
	return nil, unsupported("post_processor", c.Type)
}

// templateProcessor is TemplateProcessing's "single" template: special tokens and the sequence "A".
func templateProcessor(c *component) (postProcessor, error) {
	var before, after []int
	seen := false
	for _, item := range c.Single {
		switch {
		case item.Sequence != nil:
			if item.Sequence.ID != "A" || seen {
				return nil, fmt.Errorf("hf: TemplateProcessing single template with sequence %q", item.Sequence.ID)
			}
			seen = true
		case item.SpecialToken != nil:
			st, ok := c.SpecialTokens[item.SpecialToken.ID]
			if !ok {
				return nil, fmt.Errorf("hf: TemplateProcessing names special token %q but does not define it", item.SpecialToken.ID)
			}
			if seen {
				after = append(after, st.IDs...)
			} else {
				before = append(before, st.IDs...)
			}
		default:
			return nil, fmt.Errorf("hf: TemplateProcessing item that is neither SpecialToken nor Sequence")
		}
	}
	if !seen {
		return nil, fmt.Errorf("hf: TemplateProcessing single template without the sequence A")
	}
	return func(ids []int) []int {
		out := make([]int, 0, len(before)+len(ids)+len(after))
		return append(append(append(out, before...), ids...), after...)
	}, nil
}

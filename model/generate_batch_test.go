package model

import (
	"context"
	"slices"
	"testing"
)

// GenerateBatch must give each prompt exactly the tokens GenerateAll gives it alone: greedy and
// sampled, prompts of different lengths, windows sliding past BlockSize, stop tokens, batches
// below and above the thin-product size, learned and sinusoidal positions.
func TestGenerateBatchMatchesGenerate(t *testing.T) {
	ctx := context.Background()
	for _, cfg := range []Config{
		{VocabSize: 65, BlockSize: 16, NLayer: 2, NHead: 4, NEmbd: 32},
		{VocabSize: 65, BlockSize: 16, NLayer: 2, NHead: 2, NEmbd: 32, Positions: "sinusoidal"},
	} {
		m, err := New(cfg, 3)
		if err != nil {
			t.Fatal(err)
		}
		prompts := [][]int{{1}, {5, 6, 7}, {9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 11, 12, 13}, {2, 2}, {40, 41, 42, 43, 44}, {64}, {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8}}
		for _, s := range []Sampling{
			{MaxNew: 12},
			{MaxNew: 10, Temperature: 0.9, TopK: 20, Seed: 7},
			{MaxNew: 10, Temperature: 1.1, TopP: 0.9, Seed: 8, Stop: []int{0, 1, 2, 3}},
		} {
			for _, n := range []int{1, 3, len(prompts)} {
				got, err := m.GenerateBatch(ctx, prompts[:n], s)
				if err != nil {
					t.Fatal(err)
				}
				for r, p := range prompts[:n] {
					want, err := m.GenerateAll(ctx, p, s)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(got[r], want) {
						t.Errorf("%+v %+v batch %d prompt %d: batched %v, alone %v", cfg, s, n, r, got[r], want)
					}
				}
			}
		}
	}
}

func TestGenerateBatchErrors(t *testing.T) {
	m, err := New(Config{VocabSize: 10, BlockSize: 8, NLayer: 1, NHead: 1, NEmbd: 8}, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, prompts := range [][][]int{{{1}, {}}, {{1}, {10}}, {{-1}}} {
		if _, err := m.GenerateBatch(context.Background(), prompts, Sampling{MaxNew: 2}); err == nil {
			t.Errorf("prompts %v: no error", prompts)
		}
	}
	if _, err := m.GenerateBatch(context.Background(), [][]int{{1}}, Sampling{MaxNew: -1}); err == nil {
		t.Error("MaxNew -1: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.GenerateBatch(ctx, [][]int{{1}}, Sampling{MaxNew: 2}); err == nil {
		t.Error("cancelled context: no error")
	}
}

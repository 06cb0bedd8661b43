package gpt2_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/tokenizer/gpt2"
)

func TestEncodingOnceAndConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			enc, err := gpt2.Encoding()
			assert.NoError(t, err)
			assert.Equal(t, []int{15496, 11, 995, 0}, enc.Encode("Hello, world!")) // from tiktoken
		})
	}
	wg.Wait()
	a, err := gpt2.Encoding()
	require.NoError(t, err)
	b, _ := gpt2.Encoding()
	assert.Same(t, a, b)
	assert.Equal(t, 50257, a.VocabSize())
	id, ok := a.SpecialID(gpt2.EndOfText)
	assert.True(t, ok)
	assert.Equal(t, gpt2.EndOfTextID, id)
}

func ExampleEncoding() {
	enc, err := gpt2.Encoding()
	if err != nil {
		panic(err)
	}
	fmt.Println(enc.Encode("The quick brown fox jumps over the lazy dog."))
	// Output: [464 2068 7586 21831 18045 625 262 16931 3290 13]
}

package cl100k_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goformer/goformer/tokenizer/cl100k"
)

func TestEncoding(t *testing.T) {
	enc, err := cl100k.Encoding()
	require.NoError(t, err)
	again, _ := cl100k.Encoding()
	assert.Same(t, enc, again)
	assert.Equal(t, 100277, enc.VocabSize())
	assert.Equal(t, cl100k.Special(), enc.Special())
	assert.Equal(t, []int{9906, 11, 1917, 0}, enc.Encode("Hello, world!")) // from tiktoken
}

func ExampleEncoding() {
	enc, err := cl100k.Encoding()
	if err != nil {
		panic(err)
	}
	fmt.Println(enc.Encode("The quick brown fox jumps over the lazy dog."))
	// Output: [791 4062 14198 39935 35308 927 279 16053 5679 13]
}

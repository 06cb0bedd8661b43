package hf

// pairTable maps an adjacent pair of token ids to the rank of their merge (its line in the merge
// list) and the id of the token it makes. It is an open-addressing hash table: merging looks up a
// pair for nearly every character of the text, and a Go map of struct keys costs several times more.
type pairTable struct {
	keys  []uint64 // left<<32 | right, +1 so that 0 marks an empty slot
	vals  []pairVal
	shift uint
}

type pairVal struct{ rank, id int32 }

const pairMul = 0x9E3779B97F4A7C15

func newPairTable(n int) pairTable {
	size, bits := 16, uint(4)
	for size < 2*n {
		size, bits = size*2, bits+1
	}
	return pairTable{keys: make([]uint64, size), vals: make([]pairVal, size), shift: 64 - bits}
}

func pairKey(a, b int32) uint64 { return (uint64(uint32(a))<<32 | uint64(uint32(b))) + 1 }

// put sets the pair's merge; a pair listed twice keeps its last line, as Hugging Face's map does.
func (p *pairTable) put(a, b int32, v pairVal) {
	k := pairKey(a, b)
	mask := len(p.keys) - 1
	for i := int((k * pairMul) >> p.shift); ; i = (i + 1) & mask {
		if p.keys[i] == 0 || p.keys[i] == k {
			p.keys[i], p.vals[i] = k, v
			return
		}
	}
}

// get returns the merge of a and b, or false.
func (p *pairTable) get(a, b int32) (pairVal, bool) {
	k := pairKey(a, b)
	mask := len(p.keys) - 1
	for i := int((k * pairMul) >> p.shift); ; i = (i + 1) & mask {
		switch p.keys[i] {
		case k:
			return p.vals[i], true
		case 0:
			return pairVal{}, false
		}
	}
}

package contract

import (
	"bytes"
	"errors"
	"testing"

	"github.com/commgraph/commgraph/envs"
)

// FuzzDecodeCheckpoint: the checkpoint reader never panics, every refusal
// wraps ErrBadCheckpoint, and what it accepts encodes back to the same bytes.
func FuzzDecodeCheckpoint(f *testing.F) {
	for _, c := range []*Checkpoint{
		{},
		{Algorithm: "commformer", Iteration: 3, EnvSteps: 99, Scalars: []float64{-0.5},
			Params:      []TensorState{{Name: "w", Shape: []int{1, 2}, F32: []float32{1, 2}}},
			Optimisers:  []AdamState{{Name: "model", LR: 1e-3, Step: 2, M: [][]float64{{1}}, V: [][]float64{{2}}}},
			RNG:         []NamedBlob{{Name: "env", Data: []byte{1, 2, 3}}},
			Evaluations: []envs.CountedRecord{{Config: []int{0, 1}, Metrics: []float64{5}}},
			Run:         RunState{ConfigSHA256: "ab", WallSeconds: 2}},
	} {
		var b bytes.Buffer
		if err := c.Encode(&b); err != nil {
			f.Fatal(err)
		}
		f.Add(b.Bytes())
	}
	f.Add([]byte(checkpointV1Magic + "{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeCheckpoint(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrBadCheckpoint) {
				t.Fatalf("refusal does not wrap ErrBadCheckpoint: %v", err)
			}
			return
		}
		var b bytes.Buffer
		if err := c.Encode(&b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b.Bytes(), data) {
			t.Fatalf("accepted %d bytes that encode back to %d others", len(data), b.Len())
		}
	})
}

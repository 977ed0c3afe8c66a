package exhaustive

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkRunOverhead measures the sweep's own cost per configuration
// (chunking, ordering, encoding, fsync) with a near-free space of 442,368
// configurations (the DRAM space's size); ns/op is per configuration.
func BenchmarkRunOverhead(b *testing.B) {
	radices := []int{4, 3, 3, 8, 2, 2, 4, 4, 3, 8}
	dir := b.TempDir()
	b.ReportAllocs()
	for b.Loop() {
		p := filepath.Join(dir, "b.sweep")
		if _, err := Run(context.Background(), newToy(radices...), p, Options{}); err != nil {
			b.Fatal(err)
		}
		os.Remove(p)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/442368, "ns/config")
}

// BenchmarkDecompose is the two-way ANOVA of one metric over a
// DRAM-sized factorial.
func BenchmarkDecompose(b *testing.B) {
	radices := []int{4, 3, 3, 8, 2, 2, 4, 4, 3, 8}
	y := make([]float64, 442368)
	r := rand.New(rand.NewPCG(1, 1))
	for i := range y {
		y[i] = r.Float64()
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decompose(y, radices); err != nil {
			b.Fatal(err)
		}
	}
}

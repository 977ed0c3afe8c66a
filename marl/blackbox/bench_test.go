package blackbox

import (
	"context"
	"testing"
)

// BenchmarkIterate measures the search's own overhead per iteration (a batch
// of 32 proposals on the 16-knob synthetic landscape, whose evaluation costs
// nanoseconds), one worker. Each b.N step runs a fresh search for 20
// iterations (640 unique evaluations) so the history stays small.
func BenchmarkIterate(b *testing.B) {
	for _, kind := range kinds() {
		b.Run(kind, func(b *testing.B) {
			sp := large()
			b.ReportAllocs()
			for range b.N {
				s := mustNew(b, kind, sp, conf(func(c *Config) { c.Batch, c.Workers = 32, 1 }), 1)
				for range 20 {
					if _, err := s.Iterate(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*20), "ns/iteration")
		})
	}
}

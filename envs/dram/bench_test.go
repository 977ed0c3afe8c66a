package dram

import "testing"

// BenchmarkSimulate measures one evaluation (a full trace) per op, with the
// Simulator reused between runs as the design-space sweep uses it.
func BenchmarkSimulate(b *testing.B) {
	for _, name := range []string{"stream", "random", "cloud-1", "cloud-2"} {
		tr, err := LoadTrace(name)
		if err != nil {
			b.Fatal(err)
		}
		for _, c := range []struct {
			name string
			cfg  Config
		}{{"base", defaultConfig()}, {"fast", fastConfig()}} {
			b.Run(name+"/"+c.name, func(b *testing.B) {
				sim := NewSimulator(nil, nil)
				if _, err := sim.Run(tr, c.cfg); err != nil { // warm the reusable state
					b.Fatal(err)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					if _, err := sim.Run(tr, c.cfg); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(tr.Requests))*float64(b.N)/b.Elapsed().Seconds(), "req/s")
			})
		}
	}
}

package multichan

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"testing"

	"github.com/commgraph/commgraph/envs/exhaustive"
)

// TestMeasureCoupling measures how strongly knobs of different channels
// interact through the system's max (makespan) and sum (energy), against
// the within-channel pairs (a study, not a test: skipped without -sweeps;
// it reads the four complete channel sweeps and evaluates systems by table
// look-up):
//
//	go test ./envs/multichan -run TestMeasureCoupling -sweeps runs/sweep -v
//
// For a knob pair (i, j) and a background design x drawn uniformly, the
// pair's interaction at x is the double-centred table of y over the
// values of i and j (the other knobs at x): y_ab - mean_a - mean_b + mean.
// Its mean square, averaged over backgrounds and divided by the variance of
// y over uniform designs, is the pair's interaction share: the part of the
// response's variation that neither knob explains alone, whatever the
// other knobs (the sum of all functional-ANOVA terms containing both
// knobs, weighted by their cell counts).
func TestMeasureCoupling(t *testing.T) {
	if *sweeps == "" {
		t.Skip("needs -sweeps DIR")
	}
	traces := DefaultTraces()
	var tabs []*exhaustive.Table
	for _, tr := range traces {
		tb, err := exhaustive.Read(filepath.Join(*sweeps, "dram-"+tr+".sweep"))
		if err != nil {
			t.Fatal(err)
		}
		tabs = append(tabs, tb)
	}
	radices := tabs[0].Radices()
	K := len(radices)
	C := len(tabs)
	N := C * K
	sys := func(cfg []int) (float64, float64) {
		tm, e := 0.0, 0.0
		for c, tb := range tabs {
			i, _ := tb.Index(cfg[c*K : (c+1)*K])
			r := tb.Row(i)
			tm, e = max(tm, r[0]), e+r[1]
		}
		return tm, e
	}
	responses := []struct {
		name string
		f    func(tm, e float64) float64
	}{
		{"log time", func(tm, e float64) float64 { return math.Log(tm) }},
		{"log energy", func(tm, e float64) float64 { return math.Log(e) }},
		{"log power", func(tm, e float64) float64 { return math.Log(e / tm) }},
		{"log EDP", func(tm, e float64) float64 { return math.Log(tm * e) }},
	}
	r := rand.New(rand.NewPCG(2026, 11))
	draw := func(cfg []int) {
		for k := range cfg {
			cfg[k] = r.IntN(radices[k%K])
		}
	}
	const backgrounds = 100
	for _, resp := range responses {
		// Variance of y over uniform designs.
		cfg := make([]int, N)
		var s, s2 float64
		const nv = 20000
		for range nv {
			draw(cfg)
			y := resp.f(sys(cfg))
			s, s2 = s+y, s2+y*y
		}
		variance := s2/nv - (s/nv)*(s/nv)
		var within, cross []float64
		share := make([][]float64, N)
		for i := range share {
			share[i] = make([]float64, N)
		}
		for i := range N {
			for j := i + 1; j < N; j++ {
				ni, nj := radices[i%K], radices[j%K]
				y := make([]float64, ni*nj)
				acc := 0.0
				for range backgrounds {
					draw(cfg)
					for a := range ni {
						for b := range nj {
							cfg[i], cfg[j] = a, b
							y[a*nj+b] = resp.f(sys(cfg))
						}
					}
					ra, rb := make([]float64, ni), make([]float64, nj)
					m := 0.0
					for a := range ni {
						for b := range nj {
							v := y[a*nj+b]
							ra[a] += v / float64(nj)
							rb[b] += v / float64(ni)
							m += v / float64(ni*nj)
						}
					}
					for a := range ni {
						for b := range nj {
							d := y[a*nj+b] - ra[a] - rb[b] + m
							acc += d * d / float64(ni*nj)
						}
					}
				}
				sh := acc / backgrounds / variance
				share[i][j], share[j][i] = sh, sh
				if i/K == j/K {
					within = append(within, sh)
				} else {
					cross = append(cross, sh)
				}
			}
		}
		stat := func(xs []float64) string {
			sorted := append([]float64(nil), xs...)
			sort.Float64s(sorted)
			sum := 0.0
			for _, x := range xs {
				sum += x
			}
			return fmt.Sprintf("%d pairs, sum %.4f, mean %.5f, 90th percentile %.5f, max %.4f", len(xs), sum, sum/float64(len(xs)), sorted[len(sorted)*9/10], sorted[len(sorted)-1])
		}
		t.Logf("%s (variance %.4g): within-channel %s", resp.name, variance, stat(within))
		t.Logf("%s: cross-channel  %s", resp.name, stat(cross))
		// Of the strongest pairs, how many cross channels.
		type pr struct {
			sh    float64
			cross bool
		}
		var all []pr
		for _, x := range within {
			all = append(all, pr{x, false})
		}
		for _, x := range cross {
			all = append(all, pr{x, true})
		}
		sort.SliceStable(all, func(a, b int) bool { return all[a].sh > all[b].sh })
		for _, top := range []int{20, 60} {
			n := 0
			for _, p := range all[:top] {
				if p.cross {
					n++
				}
			}
			t.Logf("%s: %d of the %d strongest pairs cross channels (the %dth has share %.4f)", resp.name, n, top, top, all[top-1].sh)
		}
	}
}

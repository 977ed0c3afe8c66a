package dram

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// The request metrics are not published by the reference, so these tests
// check them on tiny traces whose figures follow by hand from the
// DDR3-1600 memspec (MICRON_1Gb_DDR3-1600_8bit_G: tCK 1.25 ns, RCD = RP =
// RL = 10, WL = 8, burst length 8 at 2 beats per clock = 4 clocks, a 64-bit
// DIMM moving 64 bytes per burst). Requests are spaced so that none waits
// for another, and the controller answers a request arriving at cycle a
// to an open row at a + RL + burst (the front end adds no cycles), so:
//
//	row hit                 RL + 4           = 14 cycles = 17.5 ns
//	idle bank (ACT + RD)    RCD + RL + 4     = 24 cycles = 30 ns
//	row conflict (PRE+ACT)  RP + RCD + RL + 4 = 34 cycles = 42.5 ns
//	write, conflict         RP + RCD + WL + 4 = 32 cycles = 40 ns

// reqAddrs returns an address in bank 0 row 0 (0), one in the same bank
// and another row, and one per other bank (row 0 of each).
func reqAddrs(t *testing.T) (conflict uint64, otherBanks []uint64) {
	t.Helper()
	spec := defaultMemSpec()
	am := DefaultMapping(spec)
	b0, r0 := am.decode(0)
	seen := map[uint32]bool{b0: true}
	for a := uint64(64); a < 1<<30 && (conflict == 0 || len(otherBanks) < spec.Banks-1); a += 64 {
		b, r := am.decode(a)
		if b == b0 && r != r0 && conflict == 0 {
			conflict = a
		}
		if !seen[b] && r == r0 {
			seen[b] = true
			otherBanks = append(otherBanks, a)
		}
	}
	if conflict == 0 || len(otherBanks) != spec.Banks-1 {
		t.Fatalf("mapping: conflict %#x, %d other banks", conflict, len(otherBanks))
	}
	return conflict, otherBanks
}

func runStats(t *testing.T, tr *Trace, sets ...string) (Result, RequestStats) {
	t.Helper()
	cfg, err := ParseConfig(sets)
	if err != nil {
		t.Fatal(err)
	}
	sim := NewSimulator(nil, nil)
	sim.RecordRequests = true
	res, err := sim.Run(tr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := sim.RequestStats()
	if err != nil {
		t.Fatal(err)
	}
	return res, rs
}

// TestRequestStatsHandComputed: an idle-bank read, a row hit, a row
// conflict and a conflicting write, 200 cycles apart, under every arbiter
// and response queue.
func TestRequestStatsHandComputed(t *testing.T) {
	conflict, _ := reqAddrs(t)
	tr := &Trace{Name: "hand", Requests: []Request{
		{Cycle: 0, Addr: 0},                // idle bank: 24 cycles, done at 24
		{Cycle: 200, Addr: 64},             // same row: 14, done at 214
		{Cycle: 400, Addr: conflict},       // conflict: 34, done at 434
		{Cycle: 600, Addr: 0, Write: true}, // conflict (row of `conflict` open): 32, done at 632
	}}
	for _, sets := range [][]string{{"Arbiter=Simple"}, {"Arbiter=Fifo"}, {"Arbiter=Reorder"},
		{"Arbiter=Fifo", "RespQueue=Reorder"}, {"Arbiter=Reorder", "MaxActiveTransactions=1"}} {
		res, rs := runStats(t, tr, sets...)
		name := strings.Join(sets, ",")
		if res.Cycles != 632 {
			t.Fatalf("%s: makespan %d cycles, want 632", name, res.Cycles)
		}
		// Reads 24, 14, 34: mean 24 cycles = 30 ns; p99 = ceil(2.97) = 3rd
		// smallest = 34 cycles = 42.5 ns.
		want := RequestStats{Reads: 3, Writes: 1, ReadLatencyAvgNS: 30, ReadLatencyP99NS: 42.5, ReadLatencyMaxNS: 42.5,
			ReadLatencyP99Cycles: 34, ReadLatencyMaxCycles: 34, ReadLatencySumCycles: 72, WriteLatencyAvgNS: 40,
			// 4 bursts of 64 B in 632 x 1.25 = 790 ns: 2048 bit / 790 ns;
			// the bus carries data 4 x 4 = 16 of the 632 cycles; peak
			// 512 bit per 4 x 1.25 ns = 102.4 Gbit/s.
			BandwidthGbps: 2048.0 / 790, Utilization: 16.0 / 632, PeakBandwidthGbps: 102.4}
		if !closeStats(rs, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, rs, want)
		}
		if math.Abs(rs.BandwidthGbps-res.BandwidthGbps) > 1e-9 || math.Abs(rs.Utilization-rs.BandwidthGbps/rs.PeakBandwidthGbps) > 1e-12 {
			t.Errorf("%s: bandwidth %v vs Result %v, utilisation %v vs bandwidth/peak %v", name, rs.BandwidthGbps, res.BandwidthGbps,
				rs.Utilization, rs.BandwidthGbps/rs.PeakBandwidthGbps)
		}
	}
}

func closeStats(a, b RequestStats) bool {
	near := func(x, y float64) bool { return math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(y)) }
	return a.Reads == b.Reads && a.Writes == b.Writes && a.ReadLatencyP99Cycles == b.ReadLatencyP99Cycles &&
		a.ReadLatencyMaxCycles == b.ReadLatencyMaxCycles && a.ReadLatencySumCycles == b.ReadLatencySumCycles &&
		near(a.ReadLatencyAvgNS, b.ReadLatencyAvgNS) && near(a.ReadLatencyP99NS, b.ReadLatencyP99NS) &&
		near(a.ReadLatencyMaxNS, b.ReadLatencyMaxNS) && near(a.WriteLatencyAvgNS, b.WriteLatencyAvgNS) &&
		near(a.BandwidthGbps, b.BandwidthGbps) && near(a.Utilization, b.Utilization) && near(a.PeakBandwidthGbps, b.PeakBandwidthGbps)
}

// TestRequestStatsP99Rank checks the nearest-rank percentile at its
// boundary: n reads 100 cycles apart, all to row 0 of bank 0 (hits, 14
// cycles) except the first and `misses - 1` reads to other idle banks (24
// cycles each). The p99 is the ceil(0.99 n)-th smallest latency, so it is
// the miss latency exactly when more than n - ceil(0.99 n) reads miss.
func TestRequestStatsP99Rank(t *testing.T) {
	_, others := reqAddrs(t)
	for _, c := range []struct {
		n, misses int
		p99       int64
	}{
		{100, 1, 14}, {100, 2, 24}, // rank 99 of 100: one slow read is above it, two are not
		{200, 2, 14}, {200, 3, 24}, // rank 198 of 200
		{50, 1, 24}, // rank ceil(49.5) = 50 of 50: the maximum
		{1, 1, 24},
	} {
		tr := &Trace{Name: "p99"}
		for i := range c.n {
			addr := uint64(64 * (i % 16)) // row 0 of bank 0
			if i > 0 && i < c.misses {
				addr = others[i-1]
			}
			tr.Requests = append(tr.Requests, Request{Cycle: uint64(100 * i), Addr: addr})
		}
		_, rs := runStats(t, tr)
		sum := int64(24*c.misses + 14*(c.n-c.misses))
		if rs.ReadLatencyP99Cycles != c.p99 || rs.ReadLatencySumCycles != sum || rs.Reads != c.n ||
			math.Abs(rs.ReadLatencyAvgNS-float64(sum)/float64(c.n)*1.25) > 1e-9 || rs.ReadLatencyP99NS != float64(c.p99)*1.25 {
			t.Errorf("n %d, %d misses: p99 %d cycles (%v ns), sum %d, mean %v ns; want p99 %d, sum %d",
				c.n, c.misses, rs.ReadLatencyP99Cycles, rs.ReadLatencyP99NS, rs.ReadLatencySumCycles, rs.ReadLatencyAvgNS, c.p99, sum)
		}
	}
}

// TestRequestStatsQueueing: two reads to the same row arriving together
// behind MaxActiveTransactions = 1 (Fifo arbiter): the second waits for the
// first's response, so its latency adds the first's. Both are counted from
// their arrival at the arbiter.
func TestRequestStatsQueueing(t *testing.T) {
	tr := &Trace{Name: "queue", Requests: []Request{{Cycle: 0, Addr: 0}, {Cycle: 0, Addr: 64}}}
	res, rs := runStats(t, tr, "Arbiter=Fifo", "MaxActiveTransactions=1")
	// The player sends the second request one clock after the arbiter
	// accepts the first (cycle 0), so it arrives at 1 and is held until the
	// first response reaches the player (24); its read, a row hit, cannot
	// finish before 24 + 14, so its latency is at least 37 cycles.
	if rs.Reads != 2 || rs.ReadLatencyMaxCycles < 37 || rs.ReadLatencyMaxCycles != res.Cycles-1 {
		t.Errorf("latencies: max %d cycles (makespan %d), want >= 37 and makespan - 1", rs.ReadLatencyMaxCycles, res.Cycles)
	}
	if rs.ReadLatencySumCycles != 24+rs.ReadLatencyMaxCycles {
		t.Errorf("sum %d, want 24 + %d", rs.ReadLatencySumCycles, rs.ReadLatencyMaxCycles)
	}
}

// TestRequestStatsPeak: the peak bandwidth of each embedded device by hand:
// DDR3-1600 and DDR4-2400 DIMMs are 64 bits wide (1600 and 2400 MT/s), the
// LPDDR4-3200 channel 16 bits (3200 MT/s).
func TestRequestStatsPeak(t *testing.T) {
	tr := &Trace{Name: "one", Requests: []Request{{Cycle: 0, Addr: 0}}}
	for _, c := range []struct {
		memspec string
		peak    float64
	}{{"", 102.4}, {"JEDEC_4Gb_DDR4-2400_8bit_A", 153.6}, {"JEDEC_8Gb_LPDDR4-3200_16bit", 51.2}} {
		spec, am, err := LoadSystem(c.memspec, "")
		if err != nil {
			t.Fatal(err)
		}
		sim := NewSimulator(spec, am)
		sim.RecordRequests = true
		if _, err := sim.Run(tr, Config{}); err != nil {
			t.Fatal(err)
		}
		rs, err := sim.RequestStats()
		if err != nil {
			t.Fatal(err)
		}
		// tCK is whole picoseconds (833 ps at 1200 MHz): within 0.1 %.
		if math.Abs(rs.PeakBandwidthGbps/c.peak-1) > 1e-3 {
			t.Errorf("%s: peak %v Gbit/s, want %v", c.memspec, rs.PeakBandwidthGbps, c.peak)
		}
	}
}

// TestRequestStatsOff: without RecordRequests there are no statistics, and
// the Result is the same either way.
func TestRequestStatsOff(t *testing.T) {
	tr, err := LoadTrace("random")
	if err != nil {
		t.Fatal(err)
	}
	cfg := fastConfig()
	sim := NewSimulator(nil, nil)
	off, err := sim.Run(tr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sim.RequestStats(); err == nil {
		t.Error("RequestStats without RecordRequests: no error")
	}
	sim.RecordRequests = true
	on, err := sim.Run(tr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if on != off {
		t.Errorf("recording changed the result:\n%+v\n%+v", on, off)
	}
	a, err := sim.RequestStats()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sim.Run(tr, cfg); err != nil {
		t.Fatal(err)
	}
	b, _ := sim.RequestStats()
	if a != b || a.Reads+a.Writes != len(tr.Requests) || !(a.ReadLatencyP99NS >= a.ReadLatencyAvgNS) || a.Utilization <= 0 || a.Utilization > 1 {
		t.Errorf("stats %+v then %+v", a, b)
	}
}

// TestSpaceRequestMetrics: the space with request metrics writes them
// after the three standard metrics, equal to the simulator's, and the
// read-latency objectives turn them on.
func TestSpaceRequestMetrics(t *testing.T) {
	c := DefaultEnvConfig()
	c.Objective = "p99_read_latency"
	s, err := c.Space()
	if err != nil {
		t.Fatal(err)
	}
	names := s.MetricNames()
	if len(names) != 7 || names[3] != MetricReadLatencyNS || names[4] != MetricReadLatencyP99NS || names[5] != MetricBandwidthGbps || names[6] != MetricUtilization {
		t.Fatalf("metrics %v", names)
	}
	cfg := fastConfig()
	out := make([]float64, 7)
	if err := s.Evaluate(cfg[:], out); err != nil {
		t.Fatal(err)
	}
	sim := NewSimulator(nil, nil)
	sim.RecordRequests = true
	res, err := sim.Run(s.Trace(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := sim.RequestStats()
	want := []float64{res.TimeNS, res.EnergyPJ, res.PowerMW, rs.ReadLatencyAvgNS, rs.ReadLatencyP99NS, rs.BandwidthGbps, rs.Utilization}
	for j := range want {
		if out[j] != want[j] {
			t.Errorf("%s = %v, want %v", names[j], out[j], want[j])
		}
	}
	ev := s.NewEvaluator()
	out2 := make([]float64, 7)
	if err := ev(cfg[:], out2); err != nil || !slices.Equal(out, out2) {
		t.Errorf("evaluator %v %v, want %v", out2, err, out)
	}
	c.Objective = "latency"
	if s, _ := c.Space(); len(s.MetricNames()) != 3 || c.ShippedOptimum() == false {
		t.Errorf("latency: metrics %v", s.MetricNames())
	}
	c.RequestMetrics = true
	if s, _ := c.Space(); len(s.MetricNames()) != 7 {
		t.Errorf("request_metrics = true: metrics %v", s.MetricNames())
	}
	c.Objective = "read_latency"
	if c.ShippedOptimum() {
		t.Error("read_latency claims a shipped optimum")
	}
	w := &Trace{Name: "writes", Requests: []Request{{Addr: 0, Write: true}}}
	ws, err := newSpace(w, spaceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ws.WithRequestMetrics(); err == nil || !strings.Contains(err.Error(), "no reads") {
		t.Errorf("write-only trace: %v", err)
	}
}

package dram

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseTraceFormats(t *testing.T) {
	in := `# comment
0:	read	0x0
1:	(16) write	0x40	0xff00ff
   
3: read 0X80 # trailing comment
7 write 0xC0
`
	tr, err := parseTrace(strings.NewReader(in), "x.stl", false)
	if err != nil {
		t.Fatal(err)
	}
	want := []Request{{0, 0, false}, {1, 0x40, true}, {3, 0x80, false}, {7, 0xc0, true}}
	if len(tr.Requests) != len(want) {
		t.Fatalf("got %d requests, want %d", len(tr.Requests), len(want))
	}
	for i, r := range want {
		if tr.Requests[i] != r {
			t.Errorf("request %d: got %+v, want %+v", i, tr.Requests[i], r)
		}
	}
	if tr.Relative {
		t.Error(".stl parsed as relative")
	}
}

func TestParseTraceErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"0: read 0x0\nx: read 0x0\n", "t.stl:2: bad timestamp"},
		{"0: read 0x0\n\n5: fetch 0x0\n", "t.stl:3: unknown command \"fetch\""},
		{"0: read 0xZZ\n", "t.stl:1: bad hex address"},
		{"0: read\n", "t.stl:1: want <read|write> <hexaddr>"},
		{"0: (x) read 0x0\n", "t.stl:1: bad length token"},
		{"0: write 0x0 0xGG\n", "t.stl:1: bad hex data"},
		{"0: write 0x0 0x1 0x2\n", "t.stl:1: unexpected tokens"},
		{"# nothing\n", "t.stl: trace has no requests"},
		{"99999999999999999999: read 0x0\n", "t.stl:1: bad timestamp"},
		{"0: read 0x0\n5: read 0x40\n# c\n4: read 0x80\n", "t.stl:4: timestamp 4 is earlier than the previous request's 5"},
		{"\uFEFF0: read 0x0\n\uFEFF1: read 0x0\n", "t.stl:2: bad timestamp"}, // a BOM only at the start
	} {
		_, err := parseTrace(strings.NewReader(c.in), "t.stl", false)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got error %v, want it to contain %q", c.in, err, c.want)
		}
	}
}

// TestTraceBOMAndOrder: a UTF-8 byte order mark at the start of a trace is
// ignored; equal timestamps are fine; decreasing ones are refused in .stl
// files (they would change the result) but are the norm in .rstl files,
// where a timestamp is a delay.
func TestTraceBOMAndOrder(t *testing.T) {
	plain := "0: read 0x0\n3: write 0x40\n3: read 0x80\n"
	want, err := parseTrace(strings.NewReader(plain), "p.stl", false)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "bom.stl")
	if err := os.WriteFile(p, []byte("\uFEFF"+plain), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadTrace(p)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Requests, want.Requests) {
		t.Errorf("with a BOM: %+v, want %+v", got.Requests, want.Requests)
	}
	unsorted := filepath.Join(dir, "u.stl")
	if err := os.WriteFile(unsorted, []byte("10: read 0x0\n2: read 0x40\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTrace(unsorted); err == nil || !strings.Contains(err.Error(), "u.stl:2: timestamp 2 is earlier") {
		t.Errorf("unsorted .stl: got %v", err)
	}
	rel := filepath.Join(dir, "r.rstl")
	if err := os.WriteFile(rel, []byte("10: read 0x0\n2: read 0x40\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if tr, err := LoadTrace(rel); err != nil || len(tr.Requests) != 2 {
		t.Errorf(".rstl with a shorter delay: %v, %v", tr, err)
	}
}

func TestRelativeTrace(t *testing.T) {
	// .rstl delays count from the acceptance of the previous request.
	dir := t.TempDir()
	p := filepath.Join(dir, "r.rstl")
	if err := os.WriteFile(p, []byte("0: read 0x0\n100: read 0x40\n100: read 0x80\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := LoadTrace(p)
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Relative || tr.Name != "r" {
		t.Fatalf("got %+v", tr)
	}
	abs, err := parseTrace(strings.NewReader("0: read 0x0\n100: read 0x40\n200: read 0x80\n"), "a.stl", false)
	if err != nil {
		t.Fatal(err)
	}
	sim := NewSimulator(nil, nil)
	rr, err := sim.Run(tr, defaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	ra, err := sim.Run(abs, defaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	// Relative delays start one player clock after the acceptance, so the
	// relative run ends later than the absolute one.
	if rr.TimeNS <= ra.TimeNS {
		t.Errorf("relative trace ended at %v ns, absolute at %v ns", rr.TimeNS, ra.TimeNS)
	}
}

func TestLoadTraceResolution(t *testing.T) {
	for _, n := range []string{"stream", "stream.stl", "cloud-1"} {
		tr, err := LoadTrace(n)
		if err != nil {
			t.Fatal(err)
		}
		if len(tr.Requests) != 10000 {
			t.Errorf("%s: %d requests", n, len(tr.Requests))
		}
	}
	_, err := LoadTrace("nosuch")
	if err == nil || !strings.Contains(err.Error(), "embedded: cloud-1, cloud-2, random, stream") {
		t.Errorf("got %v", err)
	}
	// A directory in dirs wins over the embedded set.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "stream.stl"), []byte("0: write 0x0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := LoadTrace("stream", dir)
	if err != nil || len(tr.Requests) != 1 || !tr.Requests[0].Write {
		t.Errorf("got %+v, %v", tr, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.stl"), []byte("0: read 0x0\n1 ready 0x0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadTrace("bad", dir)
	if err == nil || !strings.Contains(err.Error(), "bad.stl:2:") {
		t.Errorf("got %v", err)
	}
}

func TestConfigParsing(t *testing.T) {
	c, err := ParseConfig([]string{"PagePolicy=Closed", "requestbuffersize=16", "Arbiter=reorder"})
	if err != nil {
		t.Fatal(err)
	}
	if c.String() != "Closed/Fifo/Bankwise/16/Fifo/NoRefresh/1/1/Reorder/1" {
		t.Errorf("got %s", c)
	}
	if fastConfig().String() != "Open/FrFcfs/Bankwise/128/Fifo/AllBank/1/1/Simple/128" {
		t.Errorf("fast config is %s", fastConfig())
	}
	back, err := ParseConfig(c.pairs())
	if err != nil || back != c {
		t.Errorf("round trip: %v %v", back, err)
	}
	for _, cc := range []struct{ in, want string }{
		{"PagePolicy=Half", "allowed: Open, OpenAdaptive, Closed, ClosedAdaptive"},
		{"RequestBufferSize=3", "allowed: 1, 2, 4, 8, 16, 32, 64, 128"},
		{"Colour=Red", "unknown knob \"Colour\" (allowed: PagePolicy, Scheduler"},
		{"PagePolicy", "want Knob=Value"},
	} {
		_, err := ParseConfig([]string{cc.in})
		if err == nil || !strings.Contains(err.Error(), cc.want) {
			t.Errorf("%s: got %v, want %q", cc.in, err, cc.want)
		}
	}
	if err := (Config{0, 5}).Validate(); err == nil {
		t.Error("out-of-range index accepted")
	}
	if n := len(Knobs()); n != NumKnobs {
		t.Errorf("%d knobs", n)
	}
	size := 1
	for _, k := range Knobs() {
		size *= len(k.Values)
	}
	if size != 442368 {
		t.Errorf("design space has %d configurations, want 442368", size)
	}
}

func TestMemSpecErrors(t *testing.T) {
	good, err := dataFS.ReadFile(defaultMemSpecFile)
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseMemSpec(good, "g.json")
	if err != nil || m.Timing.RC != 38 || m.Banks != 8 || m.bytesPerBurst() != 64 {
		t.Fatalf("got %+v, %v", m, err)
	}
	for _, c := range []struct{ in, want string }{
		{`{"memspec": {`, "memspec bad.json: "},
		{"{\n\"memspec\": [1,\n2]}", "memspec bad.json: line 2"},
		{`{}`, "memspec bad.json: need memspec"},
		{strings.Replace(string(good), `"RC": 38,`, "", 1), "lacks [RC]"},
		{strings.Replace(string(good), `"DDR3"`, `"HBM9"`, 1), "not supported"},
		{strings.Replace(string(good), `"RC": 38,`, `"RC": -1,`, 1), "memtimingspec.RC = -1"},
	} {
		_, err := parseMemSpec([]byte(c.in), "bad.json")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
	if _, err := LoadMemSpec(filepath.Join(t.TempDir(), "none.json")); err == nil || !strings.Contains(err.Error(), "none.json") {
		t.Errorf("got %v", err)
	}
	if _, err := parseAddressMapping([]byte(`{"CONGEN": {"BANK_BIT": [70], "ROW_BIT": [1]}}`), "am.json"); err == nil ||
		!strings.Contains(err.Error(), "am.json") {
		t.Errorf("got %v", err)
	}
}

func TestParseReferenceErrors(t *testing.T) {
	hdr := "trace,PagePolicy,Scheduler,SchedulerBuffer,RequestBufferSize,RespQueue,RefreshPolicy,RefreshMaxPostponed,RefreshMaxPulledin,Arbiter,MaxActiveTransactions,energy_pJ,power_mW,time_ns,extra\n"
	row := "stream.stl,Open,Fifo,Bankwise,1,Fifo,NoRefresh,1,1,Simple,1,85957050.0,1666.0,51595.0,x\n"
	rows, err := parseReference(strings.NewReader(hdr+row), "r.csv")
	if err != nil || len(rows) != 1 || rows[0].TimeNS != 51595 || rows[0].Line != 2 {
		t.Fatalf("got %+v, %v", rows, err)
	}
	for _, c := range []struct{ in, want string }{
		{"trace,energy_pJ\n" + row, "r.csv:1: missing column \"PagePolicy\""},
		{hdr + row + strings.Replace(row, "Bankwise", "Banked", 1), "r.csv:3: knob SchedulerBuffer: unknown value \"Banked\" (allowed: Bankwise, ReadWrite, Shared)"},
		{hdr + strings.Replace(row, "51595.0", "fast", 1), "r.csv:2: column time_ns: bad number"},
	} {
		_, err := parseReference(strings.NewReader(c.in), "r.csv")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
	if _, err := parseReference(bytes.NewReader(nil), "e.csv"); err == nil {
		t.Error("empty CSV accepted")
	}
}

func TestSpearman(t *testing.T) {
	if r := spearman([]float64{1, 2, 3, 4}, []float64{10, 20, 30, 40}); r != 1 {
		t.Errorf("monotone: %v", r)
	}
	if r := spearman([]float64{1, 2, 3, 4}, []float64{4, 3, 2, 1}); r != -1 {
		t.Errorf("reversed: %v", r)
	}
	// Ties get average ranks: x ranks 1.5,1.5,3 ; y ranks 1,2,3 -> 0.866...
	if r := spearman([]float64{1, 1, 2}, []float64{1, 2, 3}); r < 0.866 || r > 0.867 {
		t.Errorf("ties: %v", r)
	}
	if m, p, x := summary([]float64{3, 1, 2, 4, 5}); m != 3 || x != 5 || p != 4.8 {
		t.Errorf("summary: %v %v %v", m, p, x)
	}
}

// FuzzParseTrace: the trace reader never panics, and whatever it accepts
// the simulator runs to completion.
func FuzzParseTrace(f *testing.F) {
	for _, s := range []string{
		"0:\tread\t0x0\n1:\twrite\t0x40\n",
		"0:\t(16) write\t0x0\t0xffff\n# c\n\n5: read 0x1fffffff\n",
		"3 read 0X80\n",
		"18446744073709551615: read 0x0\n",
		"0: read 0xffffffffffffffff\n1: write 0x0 0x\n",
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	sim := NewSimulator(nil, nil)
	f.Fuzz(func(t *testing.T, data []byte, relative bool) {
		tr, err := parseTrace(bytes.NewReader(data), "fuzz.stl", relative)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.stl") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(tr.Requests) > 64 {
			return
		}
		for i := range tr.Requests { // keep simulated time short
			tr.Requests[i].Cycle %= 1 << 16
		}
		cfg := fastConfig()
		cfg[KnobRefreshPolicy] = int(RefreshNone)
		res, err := sim.Run(tr, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if res.NRd+res.NWr != int64(len(tr.Requests)) {
			t.Fatalf("%d column commands for %d requests", res.NRd+res.NWr, len(tr.Requests))
		}
	})
}

func TestArrivalCycle(t *testing.T) {
	// Equal clocks: the whole-cycle fast path agrees with the ps formula.
	for a := int64(0); a < 50; a += 7 {
		for line := int64(0); line < 80; line += 13 {
			if got, want := arrivalCycle(a, line, false, false, 1250, 1250), max(a+1, line); got != want {
				t.Errorf("abs a=%d line=%d: %d, want %d", a, line, got, want)
			}
			if got, want := arrivalCycle(a, line, false, true, 1250, 1250), a+1+line; got != want {
				t.Errorf("rel a=%d line=%d: %d, want %d", a, line, got, want)
			}
		}
	}
	// A 400 MHz player (2500 ps) sends on its own edges; the arbiter
	// aligns to the 1250 ps memory clock: END_REQ at cycle 3 (3750 ps) ->
	// next edge 5000 ps -> cycle 4; END_REQ at cycle 4 (5000 ps, on an
	// edge) -> 7500 ps -> cycle 6.
	if got := arrivalCycle(3, 0, false, false, 1250, 2500); got != 4 {
		t.Errorf("got %d, want 4", got)
	}
	if got := arrivalCycle(4, 0, false, false, 1250, 2500); got != 6 {
		t.Errorf("got %d, want 6", got)
	}
	if got := arrivalCycle(0, 3, true, false, 1250, 2500); got != 6 {
		t.Errorf("first: got %d, want 6", got)
	}
	// A slower player makes a saturating trace slower, never faster.
	tr, err := LoadTrace("stream")
	if err != nil {
		t.Fatal(err)
	}
	sim := NewSimulator(nil, nil)
	fast, _ := sim.Run(tr, defaultConfig())
	sim.PlayerClockMHz = 100
	slow, err := sim.Run(tr, defaultConfig())
	if err != nil || slow.TimeNS <= fast.TimeNS {
		t.Errorf("100 MHz player: %v ns vs %v ns at 800 MHz (%v)", slow.TimeNS, fast.TimeNS, err)
	}
}

// TestEnergyModel checks the DRAMPower-style energy of a single closed-page
// read by hand: ACT at cycle 0, RDA at RCD=10, the implied precharge at
// max(10+max(RTP,4), 0+RAS) = 28, so the window ends at 28+RP-1 = 37 with
// 28 active cycles; with IDD2N != IDD3N the precharged cycles use IDD2N.
func TestEnergyModel(t *testing.T) {
	tr, err := parseTrace(strings.NewReader("0: read 0x0\n"), "one.stl", false)
	if err != nil {
		t.Fatal(err)
	}
	spec := defaultMemSpec()
	spec.Power.IDD2N = 30
	sim := NewSimulator(spec, nil)
	cfg, _ := ParseConfig([]string{"PagePolicy=Closed"})
	res, err := sim.Run(tr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.NAct != 1 || res.NPre != 1 || res.NRd != 1 || res.WindowCycles != 37 || res.ActiveCycles != 28 {
		t.Fatalf("got %+v", res)
	}
	// pJ per cycle per mA for the DIMM: 8 devices x 1.5 V x 1.25 ns.
	k := 8 * 1.5 * 1.25
	want := k*(28*(70-45)+ // ACT: RAS x (IDD0-IDD3N)
		10*(70-30)+ // PRE: (RC-RAS) x (IDD0-IDD2N)
		4*(140-45)) + // RD: BL/2 x (IDD4R-IDD3N)
		k*(28*45+9*30) // background: active x IDD3N + precharged x IDD2N
	if d := res.EnergyPJ - want; d > 1e-6 || d < -1e-6 {
		t.Errorf("energy %v pJ, want %v", res.EnergyPJ, want)
	}
	if p := res.EnergyPJ / (37 * 1.25); res.PowerMW != p {
		t.Errorf("power %v mW, want %v", res.PowerMW, p)
	}
	// The response leaves at RDA + RL + BL/2 = 10 + 14 = 24 cycles.
	if res.Cycles != 24 {
		t.Errorf("makespan %d cycles, want 24", res.Cycles)
	}
}

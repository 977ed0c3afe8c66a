package dram

import (
	"math"
	"strings"
	"testing"
	"time"
)

// goodMemSpec is the embedded DDR3-1600 memspec file.
func goodMemSpec(t testing.TB) string {
	t.Helper()
	data, err := dataFS.ReadFile(defaultMemSpecFile)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestMemSpecRejectsImpossibleDevices: each impossible device is refused
// at load time with an error naming the field.
func TestMemSpecRejectsImpossibleDevices(t *testing.T) {
	good := goodMemSpec(t)
	edit := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("the memspec has no %q", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	for _, c := range []struct{ in, want string }{
		{edit(`"REFI": 6240,`, `"REFI": 50,`), "memtimingspec.REFI = 50 is below 2 x (RFC + RC)"}, // REFI < RFC
		{edit(`"REFI": 6240,`, `"REFI": 88,`), "memtimingspec.REFI = 88"},                         // REFI = RFC
		{edit(`"REFI": 6240,`, `"REFI": 1,`), "memtimingspec.REFI = 1"},
		{edit(`"REFI": 6240,`, `"REFI": 0,`), "memtimingspec.REFI = 0: want a positive"},
		{edit(`"RC": 38,`, `"RC": 0,`), "memtimingspec.RC = 0: want a positive"},
		{edit(`"RCD": 10,`, `"RCD": 0,`), "memtimingspec.RCD = 0: want a positive"},
		{edit(`"RFC": 88,`, `"RFC": 0,`), "memtimingspec.RFC = 0: want a positive"},
		{edit(`"WL": 8,`, `"WL": -3,`), "memtimingspec.WL = -3"},
		{edit(`"RC": 38,`, `"RC": 30,`), "memtimingspec.RC = 30 is shorter than RAS + RP"},
		{edit(`"RAS": 28,`, `"RAS": 5,`), "memtimingspec.RAS = 5 is shorter than RCD"},
		{edit(`"CCD": 4,`, `"CCD": 1,`), "memtimingspec.CCD = 1 is shorter than a burst"},
		{edit(`"clkMhz": 800`, `"clkMhz": 1e-300`), "memtimingspec.clkMhz 1e-300 out of range"},
		{edit(`"clkMhz": 800`, `"clkMhz": 0`), "memtimingspec.clkMhz 0 out of range"},
		{edit(`"clkMhz": 800`, `"clkMhz": 900000`), "memtimingspec.clkMhz 900000 out of range"},
		{edit(`"burstLength": 8,`, `"burstLength": 1024,`), "memarchitecturespec.burstLength 1024"},
		{edit(`"burstLength": 8,`, `"burstLength": 0,`), "memarchitecturespec.burstLength 0"},
		{edit(`"dataRate": 2,`, `"dataRate": 8,`), "memarchitecturespec.dataRate 8"},
		{edit(`"width": 8,`, `"width": 0,`), "memarchitecturespec.width 0"},
		{edit(`"nbrOfDevicesOnDIMM": 8,`, `"nbrOfDevicesOnDIMM": 1000,`), "memarchitecturespec.nbrOfDevicesOnDIMM 1000"},
		{edit(`"nbrOfDevicesOnDIMM": 8,`, `"nbrOfDevicesOnDIMM": -1,`), "memarchitecturespec.nbrOfDevicesOnDIMM -1"},
		{edit(`"nbrOfBanks": 8,`, `"nbrOfBanks": 0,`), "memarchitecturespec.nbrOfBanks 0"},
		{edit(`"nbrOfChannels": 1`, `"nbrOfChannels": 2`), "memarchitecturespec.nbrOfChannels 2"},
		{edit(`"idd0": 70.0,`, `"idd0": -70.0,`), "mempowerspec.idd0 = -70: want a current"},
		{edit(`"idd3n": 45.0,`, `"idd3n": 0,`), "mempowerspec.idd3n = 0: want a current"},
		{edit(`"idd5": 170.0,`, `"idd5": 1e300,`), "mempowerspec.idd5 = 1e+300: want a current"},
		{edit(`"idd4r": 140.0,`, `"idd4r": 40.0,`), "mempowerspec.idd4r = 40 is below idd3n = 45"},
		{edit(`"idd0": 70.0,`, `"idd0": 44.0,`), "mempowerspec.idd0 = 44 is below idd3n = 45"},
		{edit(`"vdd": 1.5`, `"vdd": 0`), "mempowerspec.vdd = 0"},
		{edit(`"vdd": 1.5`, `"vdd": 1e6`), "mempowerspec.vdd = 1e+06"},
	} {
		_, err := parseMemSpec([]byte(c.in), "bad.json")
		if err == nil || !strings.Contains(err.Error(), "memspec bad.json: "+c.want) {
			t.Errorf("got %v, want it to contain %q", err, "memspec bad.json: "+c.want)
		}
	}
	// A byte order mark at the start is ignored.
	if m, err := parseMemSpec([]byte("\uFEFF"+good), "bom.json"); err != nil || m.Timing.REFI != 6240 {
		t.Errorf("memspec with a BOM: %v", err)
	}
	if _, err := parseAddressMapping([]byte("\uFEFF"+`{"CONGEN": {"BANK_BIT": [13], "ROW_BIT": [16]}}`), "am.json"); err != nil {
		t.Errorf("mapping with a BOM: %v", err)
	}
	// A memspec built in code is checked by Run.
	spec := defaultMemSpec()
	spec.Timing.REFI = 50
	tr, err := parseTrace(strings.NewReader("0: read 0x0\n1: read 0x40\n"), "two.stl", false)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := ParseConfig([]string{"RefreshPolicy=AllBank"})
	if _, err := NewSimulator(spec, nil).Run(tr, cfg); err == nil || !strings.Contains(err.Error(), "memtimingspec.REFI = 50") {
		t.Errorf("Run with REFI 50: got %v", err)
	}
}

// TestWatchdogStopsStuckRun: a device whose refresh leaves no time to
// serve requests (REFI < RFC, let past the memspec check) makes the run
// fail with a no-progress error instead of spinning forever.
func TestWatchdogStopsStuckRun(t *testing.T) {
	// The requests arrive after the first refreshes, as in the issue's
	// report (REFI < RFC spun forever on a 2-request trace).
	tr, err := parseTrace(strings.NewReader("1000: read 0x0\n1001: write 0x40\n"), "two.stl", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, refi := range []int{1, 50} {
		spec := defaultMemSpec()
		spec.Timing.REFI = refi
		sim := NewSimulator(spec, nil)
		sim.skipSpecCheck = true
		for _, set := range [][]string{{"RefreshPolicy=AllBank"}, {"RefreshPolicy=AllBank", "RefreshMaxPostponed=8", "Arbiter=Reorder"}} {
			cfg, _ := ParseConfig(set)
			// A hang guard, not a timing assertion: the watchdog answers in
			// well under a millisecond; without it the run never returns.
			done := make(chan error, 1)
			go func() {
				_, err := sim.Run(tr, cfg)
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "no progress") {
					t.Errorf("REFI %d %v: got %v, want a no-progress error", refi, set, err)
				}
			case <-time.After(2 * time.Minute):
				t.Fatalf("REFI %d %v: the run did not return (the watchdog failed)", refi, set)
			}
		}
	}
	// The same device without refresh serves both requests.
	spec := defaultMemSpec()
	spec.Timing.REFI = 50
	sim := NewSimulator(spec, nil)
	sim.skipSpecCheck = true
	if res, err := sim.Run(tr, defaultConfig()); err != nil || res.NRd+res.NWr != 2 {
		t.Errorf("without refresh: %+v, %v", res, err)
	}
}

// FuzzParseMemSpec: the memspec reader never panics, errors name the file,
// and every device it accepts simulates a short trace with all-bank refresh
// to completion with finite, positive energy and at most the bus's peak
// bandwidth.
func FuzzParseMemSpec(f *testing.F) {
	good := goodMemSpec(f)
	f.Add([]byte(good))
	for _, r := range [][2]string{
		{`"REFI": 6240,`, `"REFI": 253,`},
		{`"RFC": 88,`, `"RFC": 1,`},
		{`"burstLength": 8,`, `"burstLength": 4,`},
		{`"CCD": 4,`, `"CCD": 9,`},
		{`"clkMhz": 800`, `"clkMhz": 1`},
		{`"idd0": 70.0,`, `"idd0": 45.0,`},
		{`"width": 8,`, `"width": 16,`},
		{`"WR": 12,`, `"WR": 9000,`},
	} {
		f.Add([]byte(strings.Replace(good, r[0], r[1], 1)))
	}
	f.Add([]byte(`{"memspec": {}}`))
	tr, err := parseTrace(strings.NewReader("0: read 0x0\n0: write 0x2000\n3: read 0x40000\n9: write 0x40\n"+
		"40: read 0x80000\n41: read 0x0\n300: write 0x100\n300: read 0x4000000\n"), "mix.stl", false)
	if err != nil {
		f.Fatal(err)
	}
	cfgs := []Config{fastConfig()}
	c, _ := ParseConfig([]string{"PagePolicy=Closed", "RefreshPolicy=AllBank", "RefreshMaxPostponed=8", "Arbiter=Reorder", "RespQueue=Reorder"})
	cfgs = append(cfgs, c)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseMemSpec(data, "fuzz.json")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "memspec fuzz.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := checkMapping(m, DefaultMapping(m)); err != nil {
			// A geometry the standard's default mapping does not address
			// (e.g. 4 banks in a DDR3 memspec): the simulator refuses the pair
			// with this error, as DRAMSys does; it needs its own mapping.
			if _, runErr := NewSimulator(m, nil).Run(tr, cfgs[0]); runErr == nil || !strings.HasSuffix(runErr.Error(), err.Error()) {
				t.Fatalf("mapping mismatch %q, simulator said %v", err, runErr)
			}
			return
		}
		sim := NewSimulator(m, nil)
		// The peak: one burst of bytesPerBurst every burstLength/dataRate clocks.
		peak := float64(m.bytesPerBurst()) * 8 / (float64(m.BurstLength/m.DataRate) * math.Round(1e6/m.ClockMHz) / 1000)
		for _, cfg := range cfgs {
			res, err := sim.Run(tr, cfg)
			if err != nil {
				t.Fatalf("accepted memspec fails to simulate: %v", err)
			}
			if res.NRd+res.NWr != int64(len(tr.Requests)) {
				t.Fatalf("%d column commands for %d requests", res.NRd+res.NWr, len(tr.Requests))
			}
			for _, v := range []float64{res.EnergyPJ, res.PowerMW, res.TimeNS, res.BandwidthGbps} {
				if !(v > 0) || math.IsInf(v, 0) {
					t.Fatalf("%s: result %+v not finite and positive", cfg, res)
				}
			}
			if res.BandwidthGbps > peak*(1+1e-9) {
				t.Fatalf("%s: bandwidth %v Gbit/s above the peak %v", cfg, res.BandwidthGbps, peak)
			}
		}
	})
}

// TestDeviceMemSpecErrors: DDR4 and LPDDR4 memspecs are read with their
// own timing keys, and a missing key, an unsupported type or an impossible
// timing is refused naming the field.
func TestDeviceMemSpecErrors(t *testing.T) {
	read := func(f string) string {
		data, err := dataFS.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	ddr4, lp := read(ddr4MemSpecFile), read(lpddr4MemSpecFile)
	m, err := parseMemSpec([]byte(ddr4), "d.json")
	if err != nil || m.Standard != DDR4 || m.BankGroups != 4 || m.Timing.CCDL != 6 || m.Timing.CCD != 4 || m.Timing.RFC != 312 || !m.HasEnergy() {
		t.Fatalf("got %+v, %v", m, err)
	}
	m, err = parseMemSpec([]byte(lp), "l.json")
	if err != nil || m.Standard != LPDDR4 || m.Timing.RP != 29 || m.Timing.RPAB != 34 || m.Timing.RFC != 448 || m.HasEnergy() || m.bytesPerBurst() != 32 {
		t.Fatalf("got %+v, %v", m, err)
	}
	// Fine-granularity refresh: REFM 2 halves REFI and uses RFC2.
	m, err = parseMemSpec([]byte(strings.Replace(ddr4, `"REFM": 1,`, `"REFM": 2,`, 1)), "d.json")
	if err != nil || m.Timing.REFI != 4680 || m.Timing.RFC != 192 {
		t.Fatalf("REFM 2: got %+v, %v", m.Timing, err)
	}
	edit := func(s, old, new string) string {
		if !strings.Contains(s, old) {
			t.Fatalf("the memspec has no %q", old)
		}
		return strings.Replace(s, old, new, 1)
	}
	for _, c := range []struct{ in, want string }{
		{edit(ddr4, `"CCD_L": 6,`, ""), "lacks [CCD_L]"},
		{edit(ddr4, `"WTR_S": 3,`, ""), "lacks [WTR_S]"},
		{edit(ddr4, `"CCD_L": 6,`, `"CCD_L": 3,`), "memtimingspec.CCD_L = 3 is shorter than CCD_S = 4"},
		{edit(ddr4, `"RRD_L": 6,`, `"RRD_L": 0,`), "memtimingspec.RRD_L = 0: want a positive"},
		{edit(ddr4, `"CCD_S": 4,`, `"CCD_S": 2,`), "memtimingspec.CCD_S = 2 is shorter than a burst"},
		{edit(ddr4, `"REFM": 1,`, `"REFM": 3,`), "memtimingspec.REFM = 3"},
		{edit(ddr4, `"nbrOfBankGroups": 4,`, `"nbrOfBankGroups": 3,`), "memarchitecturespec.nbrOfBankGroups 3"},
		{edit(ddr4, `"idd02": 4.05,`, ""), "mempowerspec lacks [idd02]"},
		{edit(ddr4, `"REFI": 9360,`, `"REFI": 500,`), "memtimingspec.REFI = 500 is below 2 x (RFC + RC)"},
		{edit(lp, `"RPAB": 34,`, ""), "lacks [RPAB]"},
		{edit(lp, `"RCPB": 97,`, `"RCPB": 50,`), "memtimingspec.RCPB = 50 is shorter than RAS + RPPB"},
		{edit(lp, `"RPAB": 34,`, `"RPAB": 20,`), "memtimingspec.RPAB = 20 is shorter than RPPB = 29"},
		{edit(lp, `"burstLength": 16,`, `"burstLength": 8,`), "memarchitecturespec.burstLength 8"},
		{edit(lp, `"REFI": 6246,`, `"REFI": 600,`), "memtimingspec.REFI = 600 is below 2 x (RFCAB + RCPB)"},
		{edit(lp, `"LPDDR4"`, `"LPDDR5"`), `memoryType "LPDDR5" not supported`},
	} {
		_, err := parseMemSpec([]byte(c.in), "bad.json")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "bad.json") {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
}

// TestLoadSystem: embedded memspecs and mappings load by name, the mapping
// defaults to the device's, and a mapping that misses the device's banks or
// bank groups is refused.
func TestLoadSystem(t *testing.T) {
	spec, am, err := LoadSystem("JEDEC_4Gb_DDR4-2400_8bit_A", "")
	if err != nil || spec.Standard != DDR4 || len(am.BankGroupBits) != 2 {
		t.Fatalf("got %v %v %v", spec, am, err)
	}
	if s, a, err := LoadSystem("", ""); s != nil || a != nil || err != nil {
		t.Errorf("defaults: got %v %v %v", s, a, err)
	}
	for _, c := range []struct{ spec, am, want string }{
		{"JEDEC_4Gb_DDR4-2400_8bit_A", "am_lpddr4_8Gbx16_brc", "address mapping addresses 8 banks"},
		{"", "am_ddr4_8x4Gbx8_dimm_p1KB_brc.json", "address mapping addresses 16 banks"},
		{"nonesuch.json", "", "memspec: "},
		{"", "nonesuch", "mapping: "},
	} {
		if _, _, err := LoadSystem(c.spec, c.am); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s + %s: got %v, want %q", c.spec, c.am, err, c.want)
		}
	}
	// Bank group bits are the high bits of the bank number (DRAMSys AddressDecoder).
	if b, _ := am.decode(1<<28 | 1<<30); b != 1+4*1 {
		t.Errorf("bank of bank 1 in group 1 decoded as %d, want 5", b)
	}
}

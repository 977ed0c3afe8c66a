package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDramSimJSON(t *testing.T) {
	var out, errb bytes.Buffer
	code := dispatch([]string{"dram", "sim", "--trace", "stream", "--json"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var m map[string]any
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	for _, k := range []string{"energy_pJ", "power_mW", "time_ns", "n_act", "n_pre", "n_rd", "n_wr", "n_ref", "bandwidth_Gbps"} {
		if _, ok := m[k]; !ok {
			t.Errorf("key %s missing in %s", k, out.String())
		}
	}
	// The spec's anchor (every knob at its first value).
	if m["time_ns"].(float64) != 51595 || m["energy_pJ"].(float64) != 85957050 || m["n_act"].(float64) != 79 {
		t.Errorf("got %s", out.String())
	}
}

func TestDramSimText(t *testing.T) {
	var out, errb bytes.Buffer
	code := dispatch([]string{"dram", "sim", "--trace", "random", "--set", "PagePolicy=Closed", "--set", "RequestBufferSize=8"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"config      Closed/Fifo/Bankwise/8/", "energy ", "power ", "makespan ", "bandwidth ", "ACT 10000"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestDramSimErrors: bad input (a memspec, trace or knob value) is a
// configuration error (status 2) naming the file and line or the knob.
func TestDramSimErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.stl")
	if err := os.WriteFile(bad, []byte("0: read 0x0\n1: jump 0x40\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badSpec := filepath.Join(dir, "spec.json")
	if err := os.WriteFile(badSpec, []byte("{\"memspec\": "), 0o644); err != nil {
		t.Fatal(err)
	}
	// REFI below RFC made an all-bank refresh run spin forever; the
	// memspec is now refused when it is loaded.
	spec, err := os.ReadFile(filepath.Join("..", "..", "envs", "dram", "data", "MICRON_1Gb_DDR3-1600_8bit_G.json"))
	if err != nil {
		t.Fatal(err)
	}
	refiSpec := filepath.Join(dir, "refi.json")
	if err := os.WriteFile(refiSpec, []byte(strings.Replace(string(spec), `"REFI": 6240,`, `"REFI": 50,`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	unsorted := filepath.Join(dir, "unsorted.stl")
	if err := os.WriteFile(unsorted, []byte("5: read 0x0\n4: read 0x40\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--memspec", refiSpec, "--set", "RefreshPolicy=AllBank"}, 2, "memtimingspec.REFI = 50 is below 2 x (RFC + RC)"},
		{[]string{"--trace", unsorted}, 2, "unsorted.stl:2: timestamp 4 is earlier than the previous request's 5"},
		{[]string{"--set", "Scheduler=Random"}, 2, "allowed: Fifo, FrFcfsGrp, FrFcfs"},
		{[]string{"--set", "Speed=11"}, 2, "unknown knob \"Speed\" (allowed: PagePolicy"},
		{[]string{"--trace", bad}, 2, "bad.stl:2: unknown command \"jump\""},
		{[]string{"--trace", "nosuch"}, 2, "not embedded"},
		{[]string{"--memspec", badSpec}, 2, "memspec " + badSpec},
		{[]string{"--bogus"}, 2, "flag provided but not defined"},
	} {
		var out, errb bytes.Buffer
		code := dispatch(append([]string{"dram", "sim"}, c.args...), &out, &errb)
		if code != c.code || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d (want %d), stderr %q (want %q)", c.args, code, c.code, errb.String(), c.want)
		}
		if out.Len() != 0 {
			t.Errorf("%v: partial output %q", c.args, out.String())
		}
	}
}

const validateHeader = "trace,PagePolicy,Scheduler,SchedulerBuffer,RequestBufferSize,RespQueue,RefreshPolicy,RefreshMaxPostponed,RefreshMaxPulledin,Arbiter,MaxActiveTransactions,energy_pJ,power_mW,time_ns\n"

func TestDramValidate(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.csv")
	rows := validateHeader +
		"stream.stl,Open,Fifo,Bankwise,1,Fifo,NoRefresh,1,1,Simple,1,85957050.0,1666.0,51595.0\n" +
		"stream.stl,Closed,Fifo,Bankwise,1,Fifo,NoRefresh,1,1,Simple,1,454577775.0,962.34,472350.0\n" +
		"random.stl,Open,Fifo,Bankwise,1,Fifo,NoRefresh,1,1,Simple,1,354964950.0,1232.6,287980.0\n"
	if err := os.WriteFile(good, []byte(rows), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := dispatch([]string{"dram", "validate", "--ref", good}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"stream.stl", "random.stl", "spearman time", "3 of 3 rows reproduced exactly (time and energy;", "all thresholds met"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// Time-only rows (energy and power left empty, as in the LPDDR4
	// reference) are said to be compared in time only.
	lines := strings.Split(strings.TrimSuffix(rows, "\n"), "\n")
	noEnergy := func(l string) string {
		f := strings.Split(l, ",")
		f[11], f[12] = "", ""
		return strings.Join(f, ",")
	}
	for _, c := range []struct {
		csv, want string
	}{
		{validateHeader + noEnergy(lines[1]) + "\n" + noEnergy(lines[2]) + "\n" + noEnergy(lines[3]) + "\n", "3 of 3 rows reproduced exactly (in time: the reference has no energy;"},
		{validateHeader + lines[1] + "\n" + noEnergy(lines[2]) + "\n" + lines[3] + "\n", "3 of 3 rows reproduced exactly (time and energy; 1 rows in time only: no reference energy;"},
	} {
		p := filepath.Join(dir, "timeonly.csv")
		if err := os.WriteFile(p, []byte(c.csv), 0o644); err != nil {
			t.Fatal(err)
		}
		out.Reset()
		if code := dispatch([]string{"dram", "validate", "--ref", p}, &out, &errb); code != 0 || !strings.Contains(out.String(), c.want) {
			t.Errorf("exit %d, output lacks %q:\n%s%s", code, c.want, out.String(), errb.String())
		}
	}

	// A reference 10% off in time violates the median threshold: exit 1.
	off := filepath.Join(dir, "off.csv")
	if err := os.WriteFile(off, []byte(strings.Replace(rows, ",51595.0", ",56754.5", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errb.Reset()
	code := dispatch([]string{"dram", "validate", "--ref", off, "--max-p95-err", "50"}, &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "stream.stl: median time error %") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}

	// Trace names resolve against --traces first.
	tdir := t.TempDir()
	if err := os.WriteFile(filepath.Join(tdir, "tiny.stl"), []byte("0: read 0x0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tiny := filepath.Join(dir, "tiny.csv")
	if err := os.WriteFile(tiny, []byte(validateHeader+"tiny.stl,Open,Fifo,Bankwise,1,Fifo,NoRefresh,1,1,Simple,1,1,1,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errb.Reset()
	if code := dispatch([]string{"dram", "validate", "--ref", tiny, "--traces", tdir}, &out, &errb); code != 1 || !strings.Contains(out.String(), "tiny.stl") {
		t.Errorf("exit %d: %s %s", code, out.String(), errb.String())
	}

	// Bad input: unknown knob value names file:line and the allowed values
	// (a configuration error: status 2).
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte(validateHeader+"stream.stl,Open,Fifo,Bankwise,3,Fifo,NoRefresh,1,1,Simple,1,1,1,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errb.Reset()
	code = dispatch([]string{"dram", "validate", "--ref", bad}, &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), "bad.csv:2: knob RequestBufferSize: unknown value \"3\" (allowed: 1, 2, 4") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
	if code := dispatch([]string{"dram", "validate"}, &out, &errb); code != 2 {
		t.Errorf("missing --ref: exit %d", code)
	}
}

// TestDramSimDevices runs the embedded DDR4 and LPDDR4 devices by name
// (no file needed) on the all-first-values design of stream.stl; the
// anchors are the DRAMSys reference runs of ddr4_2400_samples.csv:305 and
// lpddr4_3200_samples.csv:185 (LPDDR4 reports time only).
func TestDramSimDevices(t *testing.T) {
	for _, c := range []struct {
		args           []string
		timeNS, energy float64
	}{
		{[]string{"--memspec", "JEDEC_4Gb_DDR4-2400_8bit_A.json", "--mapping", "am_ddr4_8x4Gbx8_dimm_p1KB_brc"}, 52474.002, 68006885.5},
		{[]string{"--memspec", "JEDEC_4Gb_DDR4-2400_8bit_A"}, 52474.002, 68006885.5}, // the DDR4 mapping by default
		{[]string{"--memspec", "JEDEC_8Gb_LPDDR4-3200_16bit"}, 62131.25, 0},
	} {
		var out, errb bytes.Buffer
		code := dispatch(append([]string{"dram", "sim", "--trace", "stream", "--json"}, c.args...), &out, &errb)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, errb.String())
		}
		var r struct {
			TimeNS   float64 `json:"time_ns"`
			EnergyPJ float64 `json:"energy_pJ"`
		}
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if math.Abs(r.TimeNS-c.timeNS) > 1e-6 || math.Abs(r.EnergyPJ-c.energy) > 0.005 {
			t.Errorf("%v: time %v energy %v, want %v and %v", c.args, r.TimeNS, r.EnergyPJ, c.timeNS, c.energy)
		}
	}
	var out, errb bytes.Buffer
	if code := dispatch([]string{"dram", "sim", "--memspec", "JEDEC_8Gb_LPDDR4-3200_16bit"}, &out, &errb); code != 0 ||
		!strings.Contains(out.String(), "energy      not modelled for LPDDR4") {
		t.Errorf("exit %d: %s %s", code, out.String(), errb.String())
	}
	// A mapping that does not address the device's banks is refused (a
	// configuration error: status 2).
	out.Reset()
	errb.Reset()
	if code := dispatch([]string{"dram", "sim", "--memspec", "JEDEC_4Gb_DDR4-2400_8bit_A", "--mapping", "am_ddr3_8x1Gbx8_dimm_p1KB_rbc"}, &out, &errb); code != 2 ||
		!strings.Contains(errb.String(), "address mapping addresses 8 banks") {
		t.Errorf("exit %d: %s", code, errb.String())
	}
}

// TestDramSimRequestMetrics: `dram sim` prints the request metrics of a
// hand-computed trace (envs/dram/reqstats_test.go derives them from the
// DDR3-1600 timings: an idle-bank read 30 ns, a row hit 17.5 ns, a row
// conflict 42.5 ns, a conflicting write 40 ns; 4 bursts in 790 ns).
func TestDramSimRequestMetrics(t *testing.T) {
	tr := filepath.Join(t.TempDir(), "hand.stl")
	if err := os.WriteFile(tr, []byte("0: read 0x0\n200: read 0x40\n400: read 0x10000\n600: write 0x0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := dispatch([]string{"dram", "sim", "--trace", tr}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"makespan    790.00 ns", "read lat.   mean 30.00 ns, p99 42.50 ns, max 42.50 ns (3 reads)",
		"write lat.  mean 40.00 ns (1 writes)", "utilisation 2.5% of the 102.4 Gbit/s peak"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if code := dispatch([]string{"dram", "sim", "--trace", tr, "--json"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var m map[string]float64
	_ = json.Unmarshal(out.Bytes(), &m) // "config" and "trace" are not numbers
	if m["read_latency_ns"] != 30 || m["read_latency_p99_ns"] != 42.5 || m["write_latency_ns"] != 40 || math.Abs(m["utilization"]-16.0/632) > 1e-12 {
		t.Errorf("json: %s", out.String())
	}
}

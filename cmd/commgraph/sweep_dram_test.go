package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/dram"
	"github.com/commgraph/commgraph/envs/exhaustive"
)

// pairSpace: log(time) has one planted interaction, Arbiter x MAT.
type pairSpace struct{}

func (pairSpace) Name() string { return "pair" }
func (pairSpace) Knobs() []envs.Knob {
	return []envs.Knob{
		{Name: "PagePolicy", Values: []string{"Open", "Closed"}},
		{Name: "Arbiter", Values: []string{"Simple", "Fifo", "Reorder"}},
		{Name: "MaxActiveTransactions", Values: []string{"1", "2", "4"}},
	}
}
func (pairSpace) MetricNames() []string { return []string{"time_ns", "energy_pJ", "power_mW"} }
func (pairSpace) Evaluate(cfg []int, out []float64) error {
	l := 0.2*float64(cfg[0]) + 0.1*float64(cfg[1]) + 0.05*float64(cfg[2])
	if cfg[1] > 0 {
		l += 0.3 * float64(2-cfg[2]) // MAT matters only with a queueing arbiter
	}
	out[0] = 1000 * math.Exp(l)
	out[1] = 5000 * math.Exp(0.3*l)
	out[2] = out[1] / out[0] * 1000
	return nil
}

func TestDramInteractionsCommand(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "pair.sweep")
	if _, err := exhaustive.Run(context.Background(), pairSpace{}, in, exhaustive.Options{}); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	outDir := filepath.Join(dir, "ia")
	if code := dispatch([]string{"dram", "interactions", "--sweep", in, "--out-dir", outDir, "--top", "2"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	s := out.String()
	for _, m := range []string{"time_ns:", "energy_pJ:", "power_mW:", "edp:"} {
		if !strings.Contains(s, m) {
			t.Fatalf("output lacks %s:\n%s", m, s)
		}
	}
	first := s[strings.Index(s, "time_ns:"):]
	if !strings.Contains(strings.SplitN(first, "\n", 3)[1], "Arbiter") || !strings.Contains(strings.SplitN(first, "\n", 3)[1], "MaxActiveTransactions") {
		t.Fatalf("top time_ns pair is not Arbiter x MaxActiveTransactions:\n%s", s)
	}
	for _, f := range []string{"interactions.json", "interactions_time_ns.dot", "interactions_edp.dot"} {
		if _, err := os.Stat(filepath.Join(outDir, f)); err != nil {
			t.Fatalf("missing %s: %v", f, err)
		}
	}
	out.Reset()
	if code := dispatch([]string{"dram", "interactions", "--sweep", in, "--out-dir", outDir, "--top", "1", "--markdown"}, &out, &errb); code != 0 {
		t.Fatalf("--markdown: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "| 1 | Arbiter | MaxActiveTransactions |") {
		t.Fatalf("--markdown output:\n%s", out.String())
	}
	dot, _ := os.ReadFile(filepath.Join(outDir, "interactions_time_ns.dot"))
	if !strings.Contains(string(dot), "Arbiter -- MaxActiveTransactions") {
		t.Fatalf("DOT lacks the planted edge:\n%s", dot)
	}
}

func TestDramSweepCommandErrors(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.sweep")
	os.WriteFile(junk, []byte("not a sweep"), 0o644)
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"dram", "sweep"}, 2, "--trace is required"},
		// Missing or bad inputs are configuration errors (status 2), a
		// damaged table a runtime failure (status 1).
		{[]string{"dram", "sweep", "--trace", "no-such"}, 2, "no-such"},
		{[]string{"dram", "sweep", "--trace", "stream", "--memspec", filepath.Join(dir, "no-such.json"), "--out", filepath.Join(dir, "never")}, 2, "no-such.json"},
		{[]string{"dram", "interactions", "--sweep", filepath.Join(dir, "no-such.sweep")}, 2, "no-such.sweep"},
		{[]string{"dram", "interactions", "--sweep", junk, "--memspec", filepath.Join(dir, "no-such.json")}, 1, "not a sweep table"},
		{[]string{"dram", "sweep", "--trace", "stream", "--fix", "Bogus=1", "--out", filepath.Join(dir, "x")}, 2, "unknown knob"},
		{[]string{"dram", "sweep", "--trace", "stream", "--fix", "PagePolicy=Sideways", "--out", filepath.Join(dir, "x")}, 2, "allowed: Open, OpenAdaptive"},
		{[]string{"dram", "sweep", "--trace", "stream", "--out", junk}, 1, "not a sweep of this space"},
		// Checked before sweeping: nothing is written.
		{[]string{"dram", "sweep", "--trace", "stream", "--fix", "PagePolicy=Open", "--best", "--out", filepath.Join(dir, "never")}, 2, "full space"},
		{[]string{"dram", "sweep", "--trace", "stream", "--fix", "PagePolicy=Open", "--best-json", filepath.Join(dir, "never.json"), "--out", filepath.Join(dir, "never")}, 2, "full space"},
		{[]string{"dram", "sweep", "--trace", "stream", "--fix", "PagePolicy=Open"}, 2, "--out is required"},
		{[]string{"dram", "interactions"}, 2, "--sweep is required"},
		{[]string{"dram", "interactions", "--sweep", junk}, 1, "not a sweep table"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		code := dispatch(c.args, &out, &errb)
		if code != c.code || !strings.Contains(errb.String(), c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d mentioning %q", c.args, code, errb.String(), c.code, c.msg)
		}
	}
	if b, _ := os.ReadFile(junk); string(b) != "not a sweep" {
		t.Error("sweep overwrote a foreign file")
	}
	for _, f := range []string{"never", "never.partial", "never.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("a refused flag combination left %s behind", f)
		}
	}
}

// TestDramSweepFixSimulatesClassesOnce: with Arbiter=Simple the controller
// ignores MaxActiveTransactions, so a sub-space in which only that knob is
// free is one class of identical designs: one simulation for all of them.
func TestDramSweepFixSimulatesClassesOnce(t *testing.T) {
	out := filepath.Join(t.TempDir(), "one.sweep")
	args := []string{"dram", "sweep", "--trace", "stream", "--out", out, "--jobs", "1",
		"--fix", "PagePolicy=Open", "--fix", "Scheduler=Fifo", "--fix", "SchedulerBuffer=Bankwise", "--fix", "RequestBufferSize=8",
		"--fix", "RespQueue=Fifo", "--fix", "RefreshPolicy=AllBank", "--fix", "RefreshMaxPostponed=2",
		"--fix", "RefreshMaxPulledin=2", "--fix", "Arbiter=Simple"}
	var so, se bytes.Buffer
	if code := dispatch(args, &so, &se); code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	n := len(dram.Knobs()[dram.KnobMaxActiveTransactions].Values)
	if want := fmt.Sprintf("%d configurations", n); !strings.Contains(so.String(), want) || !strings.Contains(so.String(), " 1 simulations") {
		t.Fatalf("want %s from 1 simulation: %q", want, so.String())
	}
}

// TestDramSweepCommandSubspace runs the real simulator on a 64-configuration
// sub-space (--fix) and checks the table, the rerun no-op and that --best
// refuses a sub-space.
func TestDramSweepCommandSubspace(t *testing.T) {
	out := filepath.Join(t.TempDir(), "sub.sweep")
	args := []string{"dram", "sweep", "--trace", "stream", "--out", out, "--jobs", "2",
		"--fix", "PagePolicy=OpenAdaptive", "--fix", "Scheduler=FrFcfs", "--fix", "SchedulerBuffer=Shared",
		"--fix", "RespQueue=Fifo", "--fix", "RefreshPolicy=AllBank", "--fix", "RefreshMaxPostponed=2",
		"--fix", "RefreshMaxPulledin=2", "--fix", "Arbiter=Fifo"}
	var so, se bytes.Buffer
	if code := dispatch(args, &so, &se); code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	if !strings.Contains(so.String(), "64 configurations") || !strings.Contains(so.String(), "64 stored") {
		t.Fatalf("output %q", so.String())
	}
	if se.Len() != 0 {
		t.Fatalf("stderr is not a terminal but got %q", se.String())
	}
	tab, err := exhaustive.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() != 64 || !strings.HasPrefix(tab.Space, "dram/stream{PagePolicy=OpenAdaptive") {
		t.Fatalf("table %q of %d configurations", tab.Space, tab.Len())
	}
	so.Reset()
	if code := dispatch(args, &so, &se); code != 0 || !strings.Contains(so.String(), "0 stored") || !strings.Contains(so.String(), "64 resumed") {
		t.Fatalf("rerun: exit %d, %q", code, so.String())
	}
	so.Reset()
	se.Reset()
	if code := dispatch(append(args, "--best"), &so, &se); code != 2 || !strings.Contains(se.String(), "full space") {
		t.Fatalf("--best on a sub-space: exit %d, %q", code, se.String())
	}
}

// TestDramSweepDevice sweeps a DDR4 sub-space (--memspec): the table names
// the device, a DDR3 sweep refuses to continue it, and interactions
// refuse it for another device.
func TestDramSweepDevice(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ddr4.sweep")
	args := []string{"dram", "sweep", "--trace", "stream", "--out", out, "--jobs", "2",
		"--fix", "PagePolicy=OpenAdaptive", "--fix", "Scheduler=FrFcfs", "--fix", "SchedulerBuffer=Shared",
		"--fix", "RespQueue=Fifo", "--fix", "RefreshPolicy=AllBank", "--fix", "RefreshMaxPostponed=2",
		"--fix", "RefreshMaxPulledin=2", "--fix", "Arbiter=Fifo"}
	var so, se bytes.Buffer
	if code := dispatch(append(args, "--memspec", "JEDEC_4Gb_DDR4-2400_8bit_A"), &so, &se); code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	tab, err := exhaustive.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() != 64 || !strings.HasPrefix(tab.Space, "dram/stream@MICRON_4Gb_DDR4-2400_8bit_A{") {
		t.Fatalf("table %q of %d configurations", tab.Space, tab.Len())
	}
	so.Reset()
	se.Reset()
	if code := dispatch(args, &so, &se); code == 0 {
		t.Fatalf("a DDR3 sweep continued the DDR4 table: %q", so.String())
	}
	so.Reset()
	se.Reset()
	code := dispatch([]string{"dram", "interactions", "--sweep", out, "--out-dir", t.TempDir(), "--memspec", "JEDEC_8Gb_LPDDR4-3200_16bit"}, &so, &se)
	if code != 1 || !strings.Contains(se.String(), "not of the memory system") {
		t.Fatalf("interactions for another device: exit %d, %q", code, se.String())
	}
}

// TestDramInteractionsTimeOnly: the interactions of an LPDDR4 sweep (no
// energy model) cover time only instead of failing on log(0).
func TestDramInteractionsTimeOnly(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "lp.sweep")
	args := []string{"dram", "sweep", "--trace", "stream", "--out", out, "--jobs", "2", "--memspec", "JEDEC_8Gb_LPDDR4-3200_16bit",
		"--fix", "PagePolicy=OpenAdaptive", "--fix", "Scheduler=FrFcfs", "--fix", "SchedulerBuffer=Shared",
		"--fix", "RespQueue=Fifo", "--fix", "RefreshPolicy=AllBank", "--fix", "RefreshMaxPostponed=2",
		"--fix", "RefreshMaxPulledin=2", "--fix", "Arbiter=Fifo"}
	var so, se bytes.Buffer
	if code := dispatch(args, &so, &se); code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	so.Reset()
	se.Reset()
	code := dispatch([]string{"dram", "interactions", "--sweep", out, "--out-dir", filepath.Join(dir, "ia"), "--memspec", "JEDEC_8Gb_LPDDR4-3200_16bit"}, &so, &se)
	if code != 0 || !strings.Contains(se.String(), "energy_pJ, power_mW, edp all zero") || !strings.Contains(so.String(), "time_ns: main effects") ||
		strings.Contains(so.String(), "energy_pJ: main") {
		t.Fatalf("exit %d: %q %q", code, so.String(), se.String())
	}
}

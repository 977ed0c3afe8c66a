package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/commgraph/commgraph/envs/dram"
)

func init() {
	register("dram sim", "simulate one trace on one controller configuration (energy, power, makespan, commands)", runDramSim)
	register("dram validate", "compare the simulator with reference DRAMSys runs from a CSV; exit 1 past the thresholds", runDramValidate)
}

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// parseFlags parses args, mapping flag errors to usage errors (exit 2).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageErrorf("%v", err)
	}
	if fs.NArg() > 0 {
		return usageErrorf("unexpected arguments %q", fs.Args())
	}
	return nil
}

// memorySystemFlags defines --memspec and --mapping.
func memorySystemFlags(fs *flag.FlagSet) (memspec, mapping *string) {
	memspec = fs.String("memspec", "", "DRAMSys memspec JSON of a DDR3, DDR4 or LPDDR4 device, or an embedded one by name ("+
		strings.Join(dram.EmbeddedMemSpecs(), ", ")+"); default: MICRON_1Gb_DDR3-1600_8bit_G")
	mapping = fs.String("mapping", "", "DRAMSys address-mapping JSON, or an embedded one by name ("+
		strings.Join(dram.EmbeddedMappings(), ", ")+"); default: the one shipped for the device's standard")
	return memspec, mapping
}

// dramSimOutput is the --json object of `dram sim`.
type dramSimOutput struct {
	Trace         string            `json:"trace"`
	Requests      int               `json:"requests"`
	Config        map[string]string `json:"config"`
	TimeNS        float64           `json:"time_ns"`
	EnergyPJ      float64           `json:"energy_pJ"`
	PowerMW       float64           `json:"power_mW"`
	BandwidthGbps float64           `json:"bandwidth_Gbps"`
	Cycles        int64             `json:"cycles"`
	NAct          int64             `json:"n_act"`
	NPre          int64             `json:"n_pre"`
	NRd           int64             `json:"n_rd"`
	NWr           int64             `json:"n_wr"`
	NRef          int64             `json:"n_ref"`
	// Request-level figures (envs/dram/reqstats.go; not published by the
	// reference, checked by hand-computed tests).
	ReadLatencyNS    float64 `json:"read_latency_ns"`
	ReadLatencyP99NS float64 `json:"read_latency_p99_ns"`
	ReadLatencyMaxNS float64 `json:"read_latency_max_ns"`
	WriteLatencyNS   float64 `json:"write_latency_ns"`
	Utilization      float64 `json:"utilization"`
}

func runDramSim(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("commgraph dram sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	traceName := fs.String("trace", "stream", "trace name (embedded: "+strings.Join(dram.EmbeddedTraces(), ", ")+") or .stl/.rstl file")
	tracesDir := fs.String("traces", "", "directory searched for the trace name before the embedded set")
	var sets listFlag
	fs.Var(&sets, "set", "Knob=Value (repeatable); unset knobs take their first value")
	asJSON := fs.Bool("json", false, "print one JSON object")
	memspec, mapping := memorySystemFlags(fs)
	player := fs.Float64("player-mhz", 800, "trace player clock in MHz")
	maxMem := maxMemoryFlag(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: commgraph dram sim [--trace NAME|FILE] [--set Knob=Value ...] [--json] [--memspec FILE --mapping FILE] [--max-memory GiB]\n\nknobs:\n")
		for _, k := range dram.Knobs() {
			fmt.Fprintf(stderr, "  %-22s %s\n", k.Name, strings.Join(k.Values, ", "))
		}
		fmt.Fprintln(stderr, "\nflags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// Flags, then the input files (trace, memspec, mapping): a bad value or
	// a missing or malformed file is a usage or configuration error (status
	// 2), found before anything is simulated.
	cfg, err := dram.ParseConfig(sets)
	if err != nil {
		return usageErrorf("--set: %v", err)
	}
	if !(*player >= 1 && *player <= 1e6) { // the simulator's range (dram.Simulator.Run)
		return usageErrorf("--player-mhz %v: want a clock in [1, 1e6] MHz", *player)
	}
	if err := checkDir("traces", *tracesDir); err != nil {
		return err
	}
	var dirs []string
	if *tracesDir != "" {
		dirs = append(dirs, *tracesDir)
	}
	limit, err := memoryLimit(*maxMem)
	if err != nil {
		return err
	}
	if err := checkTraceFile(*traceName, 1, limit, dirs...); err != nil {
		return err
	}
	tr, err := dram.LoadTrace(*traceName, dirs...)
	if err != nil {
		return configError(err)
	}
	spec, am, err := dram.LoadSystem(*memspec, *mapping)
	if err != nil {
		return configError(err)
	}
	sim := dram.NewSimulator(spec, am)
	sim.PlayerClockMHz = *player
	sim.RecordRequests = true
	res, err := sim.Run(tr, cfg)
	if err != nil {
		return err
	}
	rs, err := sim.RequestStats()
	if err != nil {
		return err
	}
	if *asJSON {
		out := dramSimOutput{
			Trace: tr.Name, Requests: res.Requests, Config: map[string]string{},
			TimeNS: res.TimeNS, EnergyPJ: res.EnergyPJ, PowerMW: res.PowerMW, BandwidthGbps: res.BandwidthGbps,
			Cycles: res.Cycles, NAct: res.NAct, NPre: res.NPre, NRd: res.NRd, NWr: res.NWr, NRef: res.NRef,
			ReadLatencyNS: rs.ReadLatencyAvgNS, ReadLatencyP99NS: rs.ReadLatencyP99NS, ReadLatencyMaxNS: rs.ReadLatencyMaxNS,
			WriteLatencyNS: rs.WriteLatencyAvgNS, Utilization: rs.Utilization,
		}
		for k, kn := range dram.Knobs() {
			out.Config[kn.Name] = cfg.Value(k)
		}
		enc := json.NewEncoder(stdout)
		return enc.Encode(out)
	}
	fmt.Fprintf(stdout, "trace       %s (%d requests, %d writes)\n", tr.Name, len(tr.Requests), tr.NumWrites())
	if spec != nil {
		fmt.Fprintf(stdout, "device      %s (%s)\n", spec.ID, spec.Standard)
		if !spec.HasEnergy() {
			fmt.Fprintf(stdout, "energy      not modelled for %s (time only, as in the reference)\n", spec.Standard)
		}
	}
	fmt.Fprintf(stdout, "config      %s\n", cfg)
	fmt.Fprintf(stdout, "energy      %.2f pJ\n", res.EnergyPJ)
	fmt.Fprintf(stdout, "power       %.2f mW\n", res.PowerMW)
	fmt.Fprintf(stdout, "makespan    %.2f ns (%d cycles)\n", res.TimeNS, res.Cycles)
	fmt.Fprintf(stdout, "bandwidth   %.2f Gbit/s (utilisation %.1f%% of the %.1f Gbit/s peak)\n", res.BandwidthGbps, 100*rs.Utilization, rs.PeakBandwidthGbps)
	if rs.Reads > 0 {
		fmt.Fprintf(stdout, "read lat.   mean %.2f ns, p99 %.2f ns, max %.2f ns (%d reads)\n", rs.ReadLatencyAvgNS, rs.ReadLatencyP99NS, rs.ReadLatencyMaxNS, rs.Reads)
	}
	if rs.Writes > 0 {
		fmt.Fprintf(stdout, "write lat.  mean %.2f ns (%d writes)\n", rs.WriteLatencyAvgNS, rs.Writes)
	}
	fmt.Fprintf(stdout, "commands    ACT %d  PRE %d  RD %d  WR %d  REF %d\n", res.NAct, res.NPre, res.NRd, res.NWr, res.NRef)
	return nil
}

func runDramValidate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("commgraph dram validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var refs listFlag
	fs.Var(&refs, "ref", "reference CSV (columns trace, the 10 knobs, energy_pJ, power_mW, time_ns); repeatable")
	tracesDir := fs.String("traces", "", "directory searched for trace names before the embedded set")
	th := dram.DefaultThresholds()
	fs.Float64Var(&th.MaxMedianTimeErr, "max-median-time-err", th.MaxMedianTimeErr, "per-trace limit on the median absolute time error (%)")
	fs.Float64Var(&th.MaxMedianEnergyErr, "max-median-energy-err", th.MaxMedianEnergyErr, "per-trace limit on the median absolute energy error (%)")
	fs.Float64Var(&th.MaxP95Err, "max-p95-err", th.MaxP95Err, "per-trace limit on the 95th percentile of the time and energy errors (%)")
	fs.Float64Var(&th.MinSpearman, "min-spearman", th.MinSpearman, "per-trace lower limit on Spearman's rank correlation of time and of energy")
	workers := fs.Int("jobs", 0, "parallel simulations (default: all cores)")
	memspec, mapping := memorySystemFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: commgraph dram validate --ref FILE.csv [--traces DIR] [--memspec FILE --mapping FILE] [--max-median-time-err 1 --max-median-energy-err 0.5 --max-p95-err 3 --min-spearman 0.99]\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if len(refs) == 0 {
		return usageErrorf("--ref is required")
	}
	if *workers < 0 {
		return usageErrorf("--jobs must be >= 0")
	}
	// Thresholds that no comparison can fail or pass (NaN, a negative
	// error, a correlation outside [-1, 1]) are refused before simulating.
	for _, e := range []struct {
		flag string
		v    float64
	}{{"max-median-time-err", th.MaxMedianTimeErr}, {"max-median-energy-err", th.MaxMedianEnergyErr}, {"max-p95-err", th.MaxP95Err}} {
		if !(e.v >= 0) || math.IsInf(e.v, 0) {
			return usageErrorf("--%s %v: want an error in percent, >= 0", e.flag, e.v)
		}
	}
	if !(th.MinSpearman >= -1 && th.MinSpearman <= 1) {
		return usageErrorf("--min-spearman %v: want a rank correlation in [-1, 1]", th.MinSpearman)
	}
	if err := checkDir("traces", *tracesDir); err != nil {
		return err
	}
	// The memspec, mapping and reference files are inputs: a missing or
	// malformed one is a configuration error (status 2).
	spec, am, err := dram.LoadSystem(*memspec, *mapping)
	if err != nil {
		return configError(err)
	}
	var rows []dram.RefRow
	for _, p := range refs {
		r, err := dram.ReadReference(p)
		if err != nil {
			return configError(err)
		}
		rows = append(rows, r...)
	}
	loader := &dram.TraceLoader{}
	if *tracesDir != "" {
		loader.Dirs = []string{*tracesDir}
	}
	v, err := dram.ValidateOn(context.Background(), rows, loader, *workers, spec, am)
	if err != nil {
		return err
	}
	if err := writeValidationTable(stdout, v); err != nil {
		return err
	}
	if bad := v.Check(th); len(bad) > 0 {
		return &exitError{code: 1, msg: "validation failed:\n  " + strings.Join(bad, "\n  ")}
	}
	fmt.Fprintln(stdout, "all thresholds met")
	return nil
}

func writeValidationTable(w io.Writer, v *dram.Validation) error {
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off))
	t.Header("trace", "rows", "time med %", "time p95 %", "time max %",
		"energy med %", "energy p95 %", "energy max %",
		"power med %", "power p95 %", "power max %", "spearman time", "spearman energy")
	for _, s := range v.Traces {
		f := func(x float64) string { return fmt.Sprintf("%.3f", x) }
		g := func(x float64) string { return fmt.Sprintf("%.4f", x) }
		if s.EnergyRows == 0 { // time-only reference (LPDDR4)
			g = func(float64) string { return "-" }
		}
		e := f
		if s.EnergyRows == 0 {
			e = g
		}
		if err := t.Append(s.Trace, fmt.Sprint(s.Rows), f(s.MedianTime), f(s.P95Time), f(s.MaxTime),
			e(s.MedianEnergy), e(s.P95Energy), e(s.MaxEnergy),
			e(s.MedianPower), e(s.P95Power), e(s.MaxPower),
			fmt.Sprintf("%.4f", s.SpearmanTime), g(s.SpearmanEnergy)); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	exact, timeOnly := 0, 0
	for _, r := range v.Rows {
		if r.Exact() {
			exact++
		}
		if r.Ref.NoEnergy {
			timeOnly++
		}
	}
	what := "time and energy"
	switch {
	case timeOnly == len(v.Rows):
		what = "in time: the reference has no energy"
	case timeOnly > 0:
		what = fmt.Sprintf("time and energy; %d rows in time only: no reference energy", timeOnly)
	}
	_, err := fmt.Fprintf(w, "%d of %d rows reproduced exactly (%s; to the printed precision)\n", exact, len(v.Rows), what)
	return err
}

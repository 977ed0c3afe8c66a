package experiments

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/dram"
	"github.com/commgraph/commgraph/envs/dram/optimum"
	"github.com/commgraph/commgraph/envs/exhaustive"
)

// The DRAM memory-controller design space on the embedded simulator:
// [env.dram] is dram.EnvConfig.
func init() {
	RegisterDesignSpace("dram", dram.DefaultEnvConfig(), buildDRAM)
}

func buildDRAM(c dram.EnvConfig, run RunInfo) (*DesignProblem, error) {
	if err := checkTraceMemory("env.dram.trace", []string{c.Trace}, run); err != nil {
		return nil, err
	}
	space, err := c.Space() // errors start with their key: trace, memspec, mapping or objective
	if err != nil {
		return nil, fmt.Errorf("key env.dram.%w", err)
	}
	oc, err := c.ObjectiveConfig()
	if err != nil {
		return nil, fmt.Errorf("key env.dram.objective: %w", err)
	}
	obj, err := oc.Bind(space.MetricNames())
	if err != nil {
		return nil, fmt.Errorf("key env.dram.objective: %w", err)
	}
	// A device without an energy model (LPDDR4) reports energy and power
	// as 0, which an observation (a logarithm) cannot take: the agents
	// observe the other metrics.
	var obs []string
	if !space.MemSpec().HasEnergy() {
		for _, m := range space.MetricNames() {
			if m != dram.MetricEnergyPJ && m != dram.MetricPowerMW {
				obs = append(obs, m)
			}
		}
	}
	var ds envs.DesignSpace = space
	if c.Table != "" {
		if ds, err = tabledSpace(space, c.Table, run.Seed); err != nil {
			return nil, fmt.Errorf("key env.dram.table: %w", err)
		}
	}
	p := &DesignProblem{Label: "dram-" + space.Trace().Name + "-" + c.Objective, Space: ds, Objective: obj,
		Env: envs.SpaceEnvConfig{EpisodeLength: c.EpisodeLen, ObsMetrics: obs}}
	switch c.Form {
	case "revision":
		p.Revision = &envs.RevisionConfig{Length: c.EpisodeLen, Pinned: c.Pinned, Credit: c.Credit, AgentID: c.AgentID, ObsMetrics: obs}
	case "search":
		p.Revision = &envs.RevisionConfig{Length: c.EpisodeLen, Credit: c.Credit, AgentID: c.AgentID, ObsMetrics: obs, Start: "elite", Elite: c.Elite, Free: c.Free, Stall: c.Stall, FirstGen: c.FirstGen, FirstStart: c.FirstStart, Seed: run.Seed}
	}
	if c.OptimumFile != "" || c.ShippedOptimum() {
		p.Optimum, err = dramOptimum(c, space.Trace().Name)
		if err != nil && c.OptimumFile != "" {
			return nil, err
		}
	}
	return p, nil
}

// dramOptimum loads the exhaustive optimum (shipped for the trace on c's
// memory system, or from a file); an error when none is shipped for the
// trace and device.
func dramOptimum(c dram.EnvConfig, trace string) (*envs.Optimum, error) {
	var f *optimum.File
	var err error
	if c.OptimumFile != "" {
		data, rerr := os.ReadFile(c.OptimumFile)
		if rerr != nil {
			return nil, fmt.Errorf("key env.dram.optimum_file: %w", rerr)
		}
		f, err = optimum.Parse(data, c.OptimumFile)
	} else {
		spec, am, lerr := dram.LoadSystem(c.MemSpec, c.Mapping)
		if lerr != nil {
			return nil, fmt.Errorf("key env.dram.%w", lerr)
		}
		f, err = optimum.ForSystem(trace, spec, am)
	}
	if err != nil {
		return nil, fmt.Errorf("key env.dram.optimum_file: %w", err)
	}
	e, err := f.Entry(c.Objective)
	if err != nil {
		return nil, fmt.Errorf("key env.dram.optimum_file: %w", err)
	}
	return &envs.Optimum{Value: e.Value, Knobs: e.Config, Ties: e.Ties, Metrics: map[string]float64{
		dram.MetricTimeNS: e.Metrics.TimeNS, dram.MetricEnergyPJ: e.Metrics.EnergyPJ, dram.MetricPowerMW: e.Metrics.PowerMW}}, nil
}

// tableChecks is how many designs of a sweep table are re-simulated before
// a run uses it (exhaustive.Tabled).
const tableChecks = 4

// tabledSpace answers space from the sweep table at path, after checking
// that the table is of space. A directory holds one table per space, named
// after it as the docs' sweep commands name them: dram-<trace>.sweep, with
// "@<memoryId>" after the trace for the other devices.
func tabledSpace(space *dram.Space, path string, seed uint64) (envs.DesignSpace, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, sweepFileName(space))
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("%w (make it with: commgraph dram sweep --trace ... --out %s)", err, path)
		}
	}
	t, err := exhaustive.Read(path)
	if err != nil {
		return nil, err
	}
	ds, err := exhaustive.Tabled(space, t, tableChecks, rand.New(rand.NewPCG(seed, 0x7ab1ed)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ds, nil
}

// checkTraceMemory refuses trace files (of key) whose loading and
// simulation, on as many simulators as the run has threads, would exceed
// the run's memory limit, before any is read (dram.TraceFileMemory).
func checkTraceMemory(key string, traces []string, run RunInfo) error {
	sims := run.Threads
	if sims <= 0 {
		sims = runtime.GOMAXPROCS(0)
	}
	for _, t := range traces {
		path, est := dram.TraceFileMemory(t, sims)
		if path == "" {
			continue
		}
		if err := checkMemory("the trace file "+path, est, run.MaxMemory, []string{key + " (a shorter trace)"},
			[]string{fmt.Sprintf("up to %s of requests, parsed and decoded by %d simulators", GiB(est), sims)}); err != nil {
			return fmt.Errorf("key %s: %w", key, err)
		}
	}
	return nil
}

package main

import (
	"fmt"
	"io"
	"strings"
)

// examples holds, per command path, the example command lines that --help
// prints after the flags. TestEveryCommandHelpHasExample keeps it complete.
var examples = map[string][]string{
	"run": {
		"commgraph run configs/dram_latency.toml",
		"commgraph run configs/dram_latency.toml --set algorithm.kind=random --set budget.iterations=20 --quiet",
	},
	"sweep": {
		"commgraph sweep configs/sweeps/dram_baselines.toml --jobs 2",
		"commgraph sweep configs/sweeps/dram_baselines.toml --list --set 'seeds=[1]'",
		"commgraph sweep configs/sweeps/dram_baselines.toml --emit k8s --out - | kubectl apply -f -",
	},
	"report": {
		"commgraph report runs/dram_baselines",
		"commgraph report runs/dram_baselines --format csv > cells.csv",
		"commgraph report runs/dram_baselines --pareto time_ns,energy_pJ",
		"commgraph report runs/s22study runs/s22ippo --out runs/pooled --versus kind=commformer   # several sweeps pooled",
	},
	"graph export": {
		"commgraph graph export runs/dram_latency/seed-1 --format png",
		"commgraph graph export runs/dram_latency/seed-1 --format dot --out - | dot -Tsvg > graph.svg",
		"commgraph graph export runs/dram_latency/seed-1 --format gif   # every snapshot, animated",
	},
	"graph compare": {
		"commgraph graph compare runs/recover_planted10/seed-1 --truth planted",
		"commgraph graph compare runs/dram_latency/seed-1 --truth sweep:runs/random.sweep",
	},
	"eval": {
		"commgraph eval runs/predprey_capture/seed-1 --episodes 1000",
		"commgraph eval runs/predprey_capture/seed-1 --last 4 --episodes 1000 --json",
	},
	"dram sim": {
		"commgraph dram sim --trace stream --set PagePolicy=Closed --json",
	},
	"dram validate": {
		"commgraph dram validate --ref ../shared/data/dramsys/oat_sweep.csv",
	},
	"dram sweep": {
		"commgraph dram sweep --trace random --out runs/random.sweep --best",
		"commgraph dram sweep --trace random --out runs/open.sweep --fix PagePolicy=Open",
	},
	"dram interactions": {
		"commgraph dram interactions --sweep runs/random.sweep --markdown",
	},
	"version": {
		"commgraph version",
		"commgraph version --json",
	},
	"completion": {
		"source <(commgraph completion bash)          # bash, this shell",
		"commgraph completion zsh > \"${fpath[1]}/_commgraph\"",
		"commgraph completion fish > ~/.config/fish/completions/commgraph.fish",
	},
}

// printExamples writes the examples of a command (after its --help).
func printExamples(w io.Writer, path []string) {
	ex := examples[strings.Join(path, " ")]
	if len(ex) == 0 {
		return
	}
	fmt.Fprintln(w, "\nexamples:")
	for _, e := range ex {
		fmt.Fprintf(w, "  %s\n", e)
	}
}

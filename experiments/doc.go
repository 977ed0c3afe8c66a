// Package experiments turns experiment files into runs and runs into
// evidence. It owns the TOML schema of a run and its strict decoding (unknown
// keys, wrong types and out-of-range values are errors naming the key and
// line; command-line overrides with --set): the run-level keys are its own,
// and each [env.KIND] / [algorithm.KIND] table decodes straight into the
// configuration type its component's package defines, with that package's
// defaults and Validate; the run directory
// (runs/<name>/seed-<s>/: resolved config, metrics.csv and metrics.jsonl,
// graph snapshots, checkpoints, summary.json, DONE), exact resume after an
// interruption, sweeps (a grid x seeds expanded into an indexed trial list,
// run by a local worker pool, a Slurm job array or a Kubernetes Indexed Job),
// reports (ablation tables of the interquartile mean with stratified
// bootstrap confidence intervals, learning-curve plots, a marl-eval JSON
// export) and the open registries that map the kinds named in a file to
// environments, design spaces and algorithms (RegisterEnv,
// RegisterDesignSpace, RegisterAlgorithm; the built-in kinds are small
// adapters, one file each: kind_*.go).
//
// It contains no algorithm maths: algorithms implement marl.Algorithm and
// are driven one iteration at a time.
package experiments

package experiments

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"

	"github.com/commgraph/commgraph/envs/fsutil"
)

// Sweep is a sweep file: a base run config, overrides for every trial, a
// grid of key paths to value lists, and seeds. Its trials are the Cartesian
// product of the grid (first key varies slowest, values in file order) times
// the seeds (innermost), numbered from 0.
type Sweep struct {
	Name   string  `toml:"name" range:"letters, digits, - _ ." doc:"sweep name; trials run in out_dir/name/<grid values>/seed-N"`
	Base   string  `toml:"base" range:"a path" doc:"the base run config (relative to the sweep file)"`
	Seeds  []int64 `toml:"seeds" range:"each in [0, inf)" doc:"seeds of every grid point; empty = the base config's seeds"`
	OutDir string  `toml:"out_dir" range:"a path or empty" doc:"root of the run directories; empty = the base config's"`
	Jobs   int     `toml:"jobs" unit:"trials" range:"[1, 1024]" doc:"trials run at once by the local pool (--jobs overrides)"`
	// MaxTrials bounds the expansion: every trial's configuration is held
	// in memory (and listed in trials.jsonl) before any runs.
	MaxTrials int `toml:"max_trials" unit:"trials" range:"[1, inf)" doc:"largest number of trials (grid points x seeds) the sweep may expand to; a larger grid is refused before it is expanded, naming its axes"`

	Slurm SlurmConfig `toml:"slurm"`
	K8s   K8sConfig   `toml:"k8s"`

	// set are the overrides applied to every trial, grid the swept keys, in
	// file order (filled by LoadSweep from the [set] and [grid] tables).
	set  []keyValue `toml:"-"`
	grid []gridAxis `toml:"-"`

	dir     string   // directory of the sweep file
	cliSets []string // --set overrides from the command line
	// cliSeeds are the seeds a command-line --set seeds=[...] or seed=N
	// gave: they replace the sweep file's seeds (nil = none given).
	cliSeeds []int64
}

// Override adds a command-line override ("key.path=value", as for run
// --set) applied to every trial after the file's [set] table. Overriding
// seeds (or seed) replaces the sweep file's seeds.
func (sw *Sweep) Override(kv string) error {
	probe, err := sw.baseConfig()
	if err != nil {
		return err
	}
	if err := ApplyOverride(&probe, kv); err != nil {
		return err
	}
	sw.cliSets = append(sw.cliSets, kv)
	switch key, _, _ := strings.Cut(kv, "="); strings.TrimSpace(key) {
	case "seeds":
		sw.cliSeeds = slices.Clone(probe.Seeds)
		if len(sw.cliSeeds) == 0 {
			sw.cliSeeds = []int64{probe.Seed}
		}
	case "seed":
		sw.cliSeeds = []int64{probe.Seed}
	}
	return nil
}

// SlurmConfig holds the resources of the emitted sbatch job-array script.
type SlurmConfig struct {
	Partition   string   `toml:"partition" range:"any" doc:"#SBATCH --partition (empty = the cluster default)"`
	Account     string   `toml:"account" range:"any" doc:"#SBATCH --account (empty = none)"`
	Time        string   `toml:"time" range:"Slurm time, e.g. 02:00:00" doc:"#SBATCH --time per trial"`
	CPUsPerTask int      `toml:"cpus_per_task" unit:"CPUs" range:"[1, 1024]" doc:"#SBATCH --cpus-per-task"`
	Mem         string   `toml:"mem" range:"Slurm memory, e.g. 4G" doc:"#SBATCH --mem"`
	Limit       int      `toml:"limit" unit:"tasks" range:"[0, 100000]" doc:"array concurrency limit (the %N of --array); 0 = no limit"`
	Extra       []string `toml:"extra" range:"sbatch options" doc:"extra #SBATCH lines, e.g. [\"--qos=normal\"]"`
	Setup       []string `toml:"setup" range:"shell lines" doc:"shell lines run before the trial (module load ...)"`
	Binary      string   `toml:"binary" range:"a path" doc:"the commgraph binary on the cluster"`
}

// K8sConfig holds the settings of the emitted Kubernetes Indexed Job.
type K8sConfig struct {
	Image        string `toml:"image" range:"a container image" doc:"image containing the commgraph binary and the configs"`
	Namespace    string `toml:"namespace" range:"any" doc:"metadata.namespace (empty = kubectl's current)"`
	Parallelism  int    `toml:"parallelism" unit:"pods" range:"[1, 100000]" doc:"pods running at once"`
	CPU          string `toml:"cpu" range:"a Kubernetes quantity" doc:"CPU request and limit per pod"`
	Memory       string `toml:"memory" range:"a Kubernetes quantity" doc:"memory request and limit per pod"`
	BackoffLimit int    `toml:"backoff_limit_per_index" unit:"retries" range:"[0, 100]" doc:"retries of a failed index (a retry resumes from the checkpoint)"`
	WorkingDir   string `toml:"working_dir" range:"a path in the image" doc:"working directory of the container (the sweep file path is relative to it)"`
	VolumeClaim  string `toml:"volume_claim" range:"a PVC name or empty" doc:"persistent volume claim mounted for the run directories (deploy/k8s/pvc.yaml creates commgraph-runs); empty = none: results stay on the pods' storage and are lost with them"`
	MountPath    string `toml:"mount_path" range:"a path" doc:"where the claim is mounted; must contain the runs' out_dir (relative to working_dir)"`
	Binary       string `toml:"binary" range:"a path in the image" doc:"the commgraph binary in the image"`
}

// keyValue is one override of a run key.
type keyValue struct {
	Key   string
	Value any
}

// gridAxis is one swept key with its values.
type gridAxis struct {
	Key    string
	Values []any
}

var sweepFields = collectFields(reflect.TypeFor[Sweep](), "", nil)

// defaultSweep is a sweep file's defaults (the [k8s] ones match the
// repository's Dockerfile and deploy/k8s/pvc.yaml).
func defaultSweep() Sweep {
	return Sweep{
		Jobs:      1,
		MaxTrials: defaultMaxTrials,
		Slurm:     SlurmConfig{Time: "04:00:00", CPUsPerTask: 2, Mem: "4G", Binary: "commgraph"},
		K8s: K8sConfig{Image: "commgraph:latest", Parallelism: 4, CPU: "2", Memory: "4Gi", BackoffLimit: 2,
			WorkingDir: "/work", VolumeClaim: "commgraph-runs", MountPath: "/work/runs", Binary: "commgraph"},
	}
}

// LoadSweep reads and strictly decodes a sweep file; every [set] and [grid]
// key must be a key of the run schema with values of its type.
func LoadSweep(path string) (*Sweep, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read sweep: %w", err)
	}
	sw := defaultSweep()
	raw := map[string]any{}
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s:%d: %s", path, pe.Position.Line, pe.Message)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	lines := keyLines(data)
	var errs []lineError
	rest := map[string]any{}
	for k, v := range raw {
		if k != "grid" && k != "set" {
			rest[k] = v
		}
	}
	assignTable(reflect.ValueOf(&sw).Elem(), rest, "", lines, &errs, sweepFields)
	probe := DefaultConfig()
	for _, k := range md.Keys() {
		if len(k) < 2 || (k[0] != "grid" && k[0] != "set") {
			continue
		}
		v := lookupRaw(raw, k)
		if _, isTable := v.(map[string]any); isTable {
			continue
		}
		key := strings.Join(k[1:], ".")
		full := k.String()
		line := lines[full]
		if line == 0 {
			line = lines[strings.Join(k, ".")]
		}
		if k[0] == "set" {
			if err := setKey(&probe, key, v); err != nil {
				errs = append(errs, lineError{line: line, key: "set." + key, msg: err.Error()})
				continue
			}
			sw.set = append(sw.set, keyValue{key, v})
			continue
		}
		vals, ok := v.([]any)
		if !ok || len(vals) == 0 {
			errs = append(errs, lineError{line: line, key: "grid." + key, msg: "expected a non-empty array of values"})
			continue
		}
		bad := false
		for i, x := range vals {
			if err := setKey(&probe, key, x); err != nil {
				errs = append(errs, lineError{line: line, key: "grid." + key, msg: fmt.Sprintf("value %d: %v", i, err)})
				bad = true
			}
		}
		if !bad {
			sw.grid = append(sw.grid, gridAxis{key, vals})
		}
	}
	if sw.Base == "" {
		errs = append(errs, lineError{key: "base", msg: "required: the base run config"})
	}
	if sw.Name == "" {
		sw.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	if !regexp.MustCompile(`^[A-Za-z0-9_.\-]+$`).MatchString(sw.Name) {
		errs = append(errs, lineError{line: lines["name"], key: "name", msg: fmt.Sprintf("%q: use letters, digits, - _ .", sw.Name)})
	}
	v := reflect.ValueOf(&sw).Elem()
	for _, f := range sweepFields {
		if msg := checkRange(v.FieldByIndex(f.index), f.tag.Get("range")); msg != "" {
			errs = append(errs, lineError{line: lines[f.path], key: f.path, msg: msg})
		}
	}
	if len(errs) > 0 {
		return nil, joinLineErrors(path, errs)
	}
	sw.dir = filepath.Dir(path)
	if _, err := sw.baseConfig(); err != nil {
		return nil, err
	}
	return &sw, nil
}

func lookupRaw(raw map[string]any, k toml.Key) any {
	var cur any = raw
	for _, p := range k {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

// resolvePath returns v, or, when key is a path key (a trace, a graph
// file) and v a relative path, v relative to the sweep file's directory,
// as a config file's paths are relative to the config file. The trial's
// directory name and labels keep the value as written.
func (sw *Sweep) resolvePath(key string, v any) any {
	p, ok := v.(string)
	if !ok || p == "" || filepath.IsAbs(p) {
		return v
	}
	f, ok := lookupField(schemaFields(), key)
	if !ok {
		return v
	}
	switch f.tag.Get("path") {
	case "file":
	case "name-or-file":
		if !strings.ContainsAny(p, "/\\") && filepath.Ext(p) == "" {
			return v // a name
		}
	default:
		return v
	}
	return filepath.Join(sw.dir, p)
}

func (sw *Sweep) baseConfig() (Config, error) {
	base := sw.Base
	if !filepath.IsAbs(base) {
		base = filepath.Join(sw.dir, base)
	}
	cfg, err := LoadConfig(base)
	if err != nil {
		return cfg, fmt.Errorf("sweep %s: base config: %w", sw.Name, err)
	}
	for _, kv := range sw.set {
		if err := setKey(&cfg, kv.Key, sw.resolvePath(kv.Key, kv.Value)); err != nil {
			return cfg, fmt.Errorf("sweep %s: set: %w", sw.Name, err)
		}
	}
	if sw.OutDir != "" {
		cfg.OutDir = sw.OutDir
		if !filepath.IsAbs(cfg.OutDir) {
			cfg.OutDir = filepath.Clean(cfg.OutDir)
		}
	}
	// The command line comes last: --set out_dir=... beats the file's.
	for _, kv := range sw.cliSets {
		if err := ApplyOverride(&cfg, kv); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// Trial is one run of a sweep.
type Trial struct {
	Index   int      `json:"index"`
	Name    string   `json:"name"`    // run name: <sweep>/<grid values>
	Variant string   `json:"variant"` // report row label
	Task    string   `json:"task"`    // report column label ("" = derived from the env)
	Seed    int64    `json:"seed"`
	Set     [][2]any `json:"set"` // the grid values of this trial, in grid order
	Dir     string   `json:"dir"` // run directory, relative to out_dir
	cfg     Config   // the resolved trial config
}

// Config returns the trial's resolved run config (one seed).
func (t Trial) Config() Config { return t.cfg }

var (
	unsafeChars = regexp.MustCompile(`[^A-Za-z0-9_.\-]+`)
	dotRuns     = regexp.MustCompile(`\.\.+`)
)

// dirValue is a grid value as part of a run directory name: characters
// other than letters, digits and - _ . become _, and so do runs of dots (a
// relative path such as ../traces/a.stl gives __traces_a.stl, never a ".."
// that a run name may not hold).
func dirValue(v any) string {
	return dotRuns.ReplaceAllString(unsafeChars.ReplaceAllString(formatValue(v), "_"), "_")
}

func formatValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// Trials expands the sweep deterministically into its indexed trial list.
func (sw *Sweep) Trials() ([]Trial, error) {
	base, err := sw.baseConfig()
	if err != nil {
		return nil, err
	}
	seeds := sw.Seeds
	if sw.cliSeeds != nil {
		seeds = sw.cliSeeds
	} else if len(seeds) == 0 {
		seeds = seedList(&base)
	}
	n := 1
	total := float64(len(seeds))
	var axes []string
	for _, ax := range sw.grid {
		n = min(n*len(ax.Values), math.MaxInt32) // saturates; refused below
		total *= float64(len(ax.Values))
		axes = append(axes, fmt.Sprintf("%s (%d values)", ax.Key, len(ax.Values)))
	}
	if total > float64(sw.MaxTrials) {
		return nil, fmt.Errorf("sweep %s: %.0f trials (%s x %d seeds), above max_trials = %d: every trial's configuration is expanded in memory before any runs; shorten the grid or the seeds, or raise max_trials in the sweep file", sw.Name, total, strings.Join(axes, " x "), len(seeds), sw.MaxTrials)
	}
	var trials []Trial
	dirs := map[string]int{} // run directory -> trial index
	pick := make([]int, len(sw.grid))
	for p := range n {
		rem := p
		for i := len(sw.grid) - 1; i >= 0; i-- {
			pick[i] = rem % len(sw.grid[i].Values)
			rem /= len(sw.grid[i].Values)
		}
		cfg := base
		cfg.Seeds = nil
		var dirParts, variant, task []string
		var set []keyValue
		for i, ax := range sw.grid {
			v := ax.Values[pick[i]]
			if err := setKey(&cfg, ax.Key, sw.resolvePath(ax.Key, v)); err != nil {
				return nil, fmt.Errorf("sweep %s: grid: %w", sw.Name, err)
			}
			set = append(set, keyValue{ax.Key, v})
			short := ax.Key[strings.LastIndex(ax.Key, ".")+1:]
			dirParts = append(dirParts, short+"-"+dirValue(v))
			lbl := short + "=" + formatValue(v)
			if strings.HasPrefix(ax.Key, "env.") || ax.Key == "task" {
				task = append(task, lbl)
			} else {
				variant = append(variant, lbl)
			}
		}
		cfg.Name = sw.Name
		if len(dirParts) > 0 {
			cfg.Name += "/" + strings.Join(dirParts, "_")
		}
		if len(variant) > 0 && base.Variant == "" {
			cfg.Variant = strings.Join(variant, " ")
		}
		if len(task) > 0 && base.Task == "" {
			cfg.Task = strings.Join(task, " ")
		}
		if cfg.Variant == "" {
			cfg.Variant = variantLabel(&cfg)
		}
		for _, s := range seeds {
			c := cfg
			c.Seed = s
			if err := c.Validate(); err != nil {
				return nil, fmt.Errorf("sweep %s: trial %d (%s seed %d): %w", sw.Name, len(trials), c.Name, s, err)
			}
			pairs := make([][2]any, len(set))
			for i, kv := range set {
				pairs[i] = [2]any{kv.Key, kv.Value}
			}
			dir := filepath.ToSlash(filepath.Join(filepath.FromSlash(c.Name), fmt.Sprintf("seed-%d", s)))
			if j, dup := dirs[dir]; dup {
				return nil, fmt.Errorf("sweep %s: trials %d and %d both run in %s (a seed listed twice in seeds, a value listed twice in a grid axis, or two values that give the same directory name): each trial needs its own run directory", sw.Name, j, len(trials), dir)
			}
			dirs[dir] = len(trials)
			trials = append(trials, Trial{Index: len(trials), Name: c.Name, Variant: c.Variant, Task: c.Task, Seed: s,
				Set: pairs, Dir: dir, cfg: c})
		}
	}
	return trials, nil
}

// Root returns the sweep's output directory (out_dir/name).
func (sw *Sweep) Root() (string, error) {
	base, err := sw.baseConfig()
	if err != nil {
		return "", err
	}
	return filepath.Join(base.OutDir, sw.Name), nil
}

// WriteTrials writes the trial list as JSON lines to root/trials.jsonl.
func (sw *Sweep) WriteTrials(trials []Trial) (string, error) {
	root, err := sw.Root()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("create sweep directory: %w", err)
	}
	var b bytes.Buffer
	for _, t := range trials {
		line, err := json.Marshal(t)
		if err != nil {
			return "", fmt.Errorf("encode trial %d: %w", t.Index, err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	path := filepath.Join(root, "trials.jsonl")
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b.Bytes()) {
		return path, nil // unchanged (e.g. every array task of a job writes it)
	}
	return path, fsutil.WriteFile(path, b.Bytes())
}

// SweepResult reports what a sweep execution did.
type SweepResult struct {
	Ran, Skipped int
	Failed       map[int]error // trial index -> error
}

// RunTrials runs the given trials in a local pool of jobs workers (jobs >=
// 1). Finished trials (DONE) are skipped. A failing trial does not stop the
// others; on context cancellation no new trial starts and running ones
// checkpoint. report, when non-nil, is called after each trial (serialised).
func RunTrials(ctx context.Context, trials []Trial, jobs int, opts RunOptions, report func(Trial, Summary, error)) (SweepResult, error) {
	res := SweepResult{Failed: map[int]error{}}
	if jobs < 1 {
		return res, fmt.Errorf("%w: jobs %d: want at least 1 trial at once", ErrConfig, jobs)
	}
	var mu sync.Mutex
	ch := make(chan Trial)
	var wg sync.WaitGroup
	for range min(jobs, max(len(trials), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range ch {
				if ctx.Err() != nil {
					continue // interrupted: start no other trial
				}
				o := opts
				if jobs > 1 {
					o.Progress = nil
				}
				sum, err := runSeed(ctx, t.cfg, t.Seed, o)
				mu.Lock()
				switch {
				case err != nil:
					res.Failed[t.Index] = err
				case sum.Skipped:
					res.Skipped++
				default:
					res.Ran++
				}
				if report != nil {
					report(t, sum, err)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, t := range trials {
		select {
		case <-ctx.Done():
			break feed
		case ch <- t:
		}
	}
	close(ch)
	wg.Wait()
	return res, nil
}

// shellQuote quotes s for POSIX shells.
func shellQuote(s string) string {
	if s != "" && regexp.MustCompile(`^[A-Za-z0-9_./=:,+@%\-]+$`).MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// EmitSlurm writes an sbatch job-array script with one array task per trial;
// each task runs `commgraph sweep SWEEP --index $SLURM_ARRAY_TASK_ID` from
// workdir (where sweepPath is valid).
func (sw *Sweep) EmitSlurm(w io.Writer, ntrials int, sweepPath, workdir string) error {
	if ntrials < 1 {
		return fmt.Errorf("sweep %s has no trials", sw.Name)
	}
	root, err := sw.Root()
	if err != nil {
		return err
	}
	s := sw.Slurm
	var b strings.Builder
	b.WriteString("#!/bin/bash\n")
	fmt.Fprintf(&b, "# Slurm job array for sweep %s: %d trials (commgraph sweep --emit slurm).\n", sw.Name, ntrials)
	b.WriteString("# Submit with: sbatch THIS_FILE. Re-submitting skips finished trials and resumes the others.\n")
	fmt.Fprintf(&b, "#SBATCH --job-name=%s\n", sw.Name)
	arr := fmt.Sprintf("0-%d", ntrials-1)
	if s.Limit > 0 {
		arr += fmt.Sprintf("%%%d", s.Limit)
	}
	fmt.Fprintf(&b, "#SBATCH --array=%s\n", arr)
	fmt.Fprintf(&b, "#SBATCH --cpus-per-task=%d\n", s.CPUsPerTask)
	if s.Mem != "" {
		fmt.Fprintf(&b, "#SBATCH --mem=%s\n", s.Mem)
	}
	if s.Time != "" {
		fmt.Fprintf(&b, "#SBATCH --time=%s\n", s.Time)
	}
	if s.Partition != "" {
		fmt.Fprintf(&b, "#SBATCH --partition=%s\n", s.Partition)
	}
	if s.Account != "" {
		fmt.Fprintf(&b, "#SBATCH --account=%s\n", s.Account)
	}
	logDir := filepath.Join(root, "slurm")
	if !filepath.IsAbs(logDir) {
		logDir = filepath.Join(workdir, logDir)
	}
	fmt.Fprintf(&b, "#SBATCH --output=%s/%%A_%%a.out\n", logDir)
	for _, e := range s.Extra {
		if strings.ContainsAny(e, "\n") {
			return fmt.Errorf("key slurm.extra: %q contains a newline", e)
		}
		fmt.Fprintf(&b, "#SBATCH %s\n", e)
	}
	b.WriteString("set -euo pipefail\n")
	fmt.Fprintf(&b, "cd %s\n", shellQuote(workdir))
	for _, l := range s.Setup {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "export GOMAXPROCS=\"${SLURM_CPUS_PER_TASK:-%d}\"\n", s.CPUsPerTask)
	sets := ""
	for _, kv := range sw.cliSets {
		sets += " --set " + shellQuote(kv)
	}
	fmt.Fprintf(&b, "exec %s sweep %s%s --quiet --index \"$SLURM_ARRAY_TASK_ID\"\n", shellQuote(s.Binary), shellQuote(sweepPath), sets)
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return fmt.Errorf("create slurm log directory: %w", err)
	}
	_, err = io.WriteString(w, b.String())
	return err
}

// EmitK8s writes a Kubernetes batch/v1 Job with completionMode Indexed,
// completions = trials and the index from JOB_COMPLETION_INDEX, as YAML.
func (sw *Sweep) EmitK8s(w io.Writer, ntrials int, sweepPath string) error {
	if ntrials < 1 {
		return fmt.Errorf("sweep %s has no trials", sw.Name)
	}
	k := sw.K8s
	if k.VolumeClaim != "" {
		// The runs must land on the volume, or they vanish with the pods.
		base, err := sw.baseConfig()
		if err != nil {
			return err
		}
		out := filepath.ToSlash(base.OutDir)
		if !path.IsAbs(out) {
			out = path.Join(k.WorkingDir, out)
		}
		if rel, err := filepath.Rel(path.Clean(k.MountPath), out); err != nil || rel == ".." || strings.HasPrefix(filepath.ToSlash(rel), "../") {
			return fmt.Errorf("sweep %s: key k8s.mount_path %q does not contain the runs' directory %s (out_dir %q in working_dir %q): results would not be on the volume %s; set mount_path or out_dir", sw.Name, k.MountPath, out, base.OutDir, k.WorkingDir, k.VolumeClaim)
		}
	}
	name := strings.Trim(unsafeChars.ReplaceAllString(strings.ToLower(strings.ReplaceAll(sw.Name, "_", "-")), "-"), "-.")
	labels := ymap{{"app", "commgraph"}, {"commgraph/sweep", name}}
	meta := ymap{{"name", name}}
	if k.Namespace != "" {
		meta = append(meta, ykv{"namespace", k.Namespace})
	}
	meta = append(meta, ykv{"labels", labels})
	res := ymap{{"cpu", k.CPU}, {"memory", k.Memory}}
	container := ymap{
		{"name", "trial"},
		{"image", k.Image},
		{"workingDir", k.WorkingDir},
		{"command", k8sCommand(k.Binary, sweepPath, sw.cliSets)},
		{"env", []any{
			ymap{{"name", "JOB_COMPLETION_INDEX"}, {"valueFrom", ymap{{"fieldRef", ymap{{"fieldPath", "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}}}}},
			ymap{{"name", "GOMAXPROCS"}, {"valueFrom", ymap{{"resourceFieldRef", ymap{{"resource", "limits.cpu"}}}}}},
		}},
		{"resources", ymap{{"requests", res}, {"limits", res}}},
	}
	// The image runs as a non-root user (Dockerfile); fsGroup lets it
	// write the volume.
	podSpec := ymap{{"restartPolicy", "Never"}, {"securityContext", ymap{{"runAsNonRoot", true}, {"runAsUser", 65532}, {"runAsGroup", 65532}, {"fsGroup", 65532}}}}
	if k.VolumeClaim != "" {
		container = append(container, ykv{"volumeMounts", []any{ymap{{"name", "runs"}, {"mountPath", k.MountPath}}}})
		podSpec = append(podSpec, ykv{"volumes", []any{ymap{{"name", "runs"}, {"persistentVolumeClaim", ymap{{"claimName", k.VolumeClaim}}}}}})
	}
	podSpec = append(podSpec, ykv{"containers", []any{container}})
	job := ymap{
		{"apiVersion", "batch/v1"},
		{"kind", "Job"},
		{"metadata", meta},
		{"spec", ymap{
			{"completionMode", "Indexed"},
			{"completions", ntrials},
			{"parallelism", min(k.Parallelism, ntrials)},
			{"backoffLimitPerIndex", k.BackoffLimit},
			{"template", ymap{
				{"metadata", ymap{{"labels", labels}}},
				{"spec", podSpec},
			}},
		}},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Kubernetes Indexed Job for sweep %s: %d trials (commgraph sweep --emit k8s).\n", sw.Name, ntrials)
	b.WriteString("# Apply with: kubectl apply -f THIS_FILE. Every pod runs one trial index; re-applying skips finished trials.\n")
	fmt.Fprintf(&b, "# Image: %s (docker build -t %s . in the repository, then push it where the cluster pulls from).\n", k.Image, k.Image)
	if k.VolumeClaim != "" {
		fmt.Fprintf(&b, "# Results: on the PersistentVolumeClaim %s at %s (kubectl apply -f deploy/k8s/pvc.yaml creates commgraph-runs; deploy/k8s/fetch-results.yaml copies them out).\n", k.VolumeClaim, k.MountPath)
	} else {
		b.WriteString("# WARNING: no k8s.volume_claim: the results stay on the pods' storage and are lost when the pods are deleted.\n")
	}
	writeYAML(&b, job, 0)
	_, err := io.WriteString(w, b.String())
	return err
}

// ykv and ymap are an ordered mapping for the YAML writer.
type ykv struct {
	k string
	v any
}
type ymap []ykv

// writeYAML writes block-style YAML; every string scalar is double-quoted
// (JSON escaping is valid YAML double-quoted style), so the output is
// unambiguous without a YAML library.
func writeYAML(b *strings.Builder, v any, indent int) {
	pad := strings.Repeat("  ", indent)
	switch x := v.(type) {
	case ymap:
		for _, kv := range x {
			switch c := kv.v.(type) {
			case ymap:
				fmt.Fprintf(b, "%s%s:\n", pad, kv.k)
				writeYAML(b, c, indent+1)
			case []any:
				fmt.Fprintf(b, "%s%s:\n", pad, kv.k)
				writeYAML(b, c, indent)
			default:
				fmt.Fprintf(b, "%s%s: %s\n", pad, kv.k, yamlScalar(c))
			}
		}
	case []any:
		for _, e := range x {
			switch c := e.(type) {
			case ymap:
				// First pair on the dash line, the rest aligned under it.
				var sub strings.Builder
				writeYAML(&sub, c, indent+1)
				s := sub.String()
				fmt.Fprintf(b, "%s- %s", pad, strings.TrimPrefix(s, pad+"  "))
			default:
				fmt.Fprintf(b, "%s- %s\n", pad, yamlScalar(c))
			}
		}
	}
}

func yamlScalar(v any) string {
	switch x := v.(type) {
	case string:
		q, _ := json.Marshal(x)
		return string(q)
	case int:
		return strconv.Itoa(x)
	case bool:
		return strconv.FormatBool(x)
	}
	q, _ := json.Marshal(v)
	return string(q)
}

func k8sCommand(bin, sweepPath string, sets []string) []any {
	cmd := []any{bin, "sweep", sweepPath}
	for _, kv := range sets {
		// $(VAR) in a command is expanded by Kubernetes; $$ escapes a dollar.
		cmd = append(cmd, "--set", strings.ReplaceAll(kv, "$", "$$"))
	}
	return append(cmd, "--quiet", "--index", "$(JOB_COMPLETION_INDEX)")
}

package experiments_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/envs/dram"
	"github.com/commgraph/commgraph/experiments"
	"github.com/commgraph/commgraph/marl/commformer"
)

const baseTOML = `name = "base"
seeds = [1, 2]
[env]
kind = "fake"
[algorithm]
kind = "fake"
[budget]
iterations = 6
[eval]
every = 2
[log]
timing = false
[checkpoint]
every = 2
`

func writeSweep(t *testing.T, sweep string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "base.toml"), []byte(baseTOML), 0o644); err != nil {
		t.Fatal(err)
	}
	sweep = strings.ReplaceAll(sweep, "OUT", filepath.Join(dir, "runs"))
	p := filepath.Join(dir, "sw.toml")
	if err := os.WriteFile(p, []byte(sweep), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const sweepTOML = `name = "abl"
base = "base.toml"
seeds = [3, 4]
out_dir = "OUT"

[set]
"budget.iterations" = 5

[grid]
"algorithm.commformer.graph" = ["learned", "none", "full"]
"algorithm.commformer.lr" = [1e-3, 2e-4]

[slurm]
limit = 3
time = "00:10:00"
partition = "cpu"

[k8s]
parallelism = 5
image = "registry.example/commgraph:v1"
volume_claim = "runs"
mount_path = "OUT"
`

func TestSweepExpansionDeterministic(t *testing.T) {
	p := writeSweep(t, sweepTOML)
	var enc []string
	for range 2 {
		sw, err := experiments.LoadSweep(p)
		if err != nil {
			t.Fatal(err)
		}
		trials, err := sw.Trials()
		if err != nil {
			t.Fatal(err)
		}
		if len(trials) != 12 {
			t.Fatalf("%d trials, want 3 x 2 x 2 = 12", len(trials))
		}
		// First grid key varies slowest, seeds innermost.
		want := []struct {
			graph string
			lr    float64
			seed  int64
		}{{"learned", 1e-3, 3}, {"learned", 1e-3, 4}, {"learned", 2e-4, 3}, {"learned", 2e-4, 4}, {"none", 1e-3, 3}}
		for i, w := range want {
			c := trials[i].Config()
			if trials[i].Index != i || string(c.Algorithm.Table("commformer").(commformer.Config).Graph) != w.graph || c.Algorithm.Table("commformer").(commformer.Config).LR != w.lr || trials[i].Seed != w.seed || c.Budget.Iterations != 5 {
				t.Errorf("trial %d: %+v graph %s lr %v iters %d", i, trials[i], c.Algorithm.Table("commformer").(commformer.Config).Graph, c.Algorithm.Table("commformer").(commformer.Config).LR, c.Budget.Iterations)
			}
		}
		if trials[0].Variant != "graph=learned lr=0.001" || trials[0].Name != "abl/graph-learned_lr-0.001" {
			t.Errorf("labels: %q %q", trials[0].Variant, trials[0].Name)
		}
		path, err := sw.WriteTrials(trials)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		enc = append(enc, string(b))
		if n := strings.Count(string(b), "\n"); n != 12 {
			t.Errorf("trials.jsonl has %d lines", n)
		}
	}
	if enc[0] != enc[1] {
		t.Error("expansion is not deterministic")
	}
}

func TestSweepErrorsNameKeyAndLine(t *testing.T) {
	for src, parts := range map[string][]string{
		"base = \"base.toml\"\n[grid]\n\"algorithm.commformer.lrr\" = [1, 2]\n":        {"sw.toml:3", "grid.algorithm.commformer.lrr", "unknown key"},
		"base = \"base.toml\"\n[grid]\n\"algorithm.commformer.lr\" = [1, \"x\"]\n":     {"sw.toml:3", "grid.algorithm.commformer.lr", "value 1"},
		"base = \"base.toml\"\n[set]\n\"algorithm.commformer.gating\" = \"yes\"\n":     {"sw.toml:3", "set.algorithm.commformer.gating", "boolean"},
		"base = \"base.toml\"\n[slurm]\ncpus = 4\n":                                    {"sw.toml:3", "slurm.cpus", "unknown key", "cpus_per_task"},
		"base = \"base.toml\"\n[grid]\n\"algorithm.commformer.sparsity\" = [0.5, 7]\n": {"algorithm.commformer.sparsity", "(0, 1]"},
	} {
		p := writeSweep(t, src)
		sw, err := experiments.LoadSweep(p)
		if err == nil {
			_, err = sw.Trials()
		}
		if err == nil {
			t.Errorf("no error for %q", src)
			continue
		}
		for _, part := range parts {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("%q: error %q lacks %q", src, err, part)
			}
		}
	}
}

func TestSlurmScript(t *testing.T) {
	p := writeSweep(t, sweepTOML)
	sw, err := experiments.LoadSweep(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.Override("budget.iterations=3"); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := sw.EmitSlurm(&b, 12, p, "/some dir/with space"); err != nil {
		t.Fatal(err)
	}
	script := b.String()
	for _, want := range []string{"#SBATCH --array=0-11%3\n", "#SBATCH --time=00:10:00\n", "#SBATCH --partition=cpu\n", "#SBATCH --cpus-per-task=2\n",
		"--set budget.iterations=3 --quiet --index \"$SLURM_ARRAY_TASK_ID\"", "cd '/some dir/with space'"} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q:\n%s", want, script)
		}
	}
	f := filepath.Join(t.TempDir(), "s.sbatch")
	os.WriteFile(f, b.Bytes(), 0o644)
	if out, err := exec.Command("bash", "-n", f).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, out)
	}
}

// parseYAML reads the block-style YAML subset that EmitK8s writes (mappings,
// sequences, double-quoted strings, integers) into maps, slices and scalars.
// It fails on anything outside the subset, so the test also checks that the
// emitter stays inside it.
func parseYAML(t *testing.T, src string) any {
	t.Helper()
	type line struct {
		indent int
		text   string
		n      int
	}
	var lines []line
	for i, l := range strings.Split(src, "\n") {
		s := strings.TrimRight(l, " ")
		if strings.TrimSpace(s) == "" || strings.HasPrefix(strings.TrimSpace(s), "#") {
			continue
		}
		ind := len(s) - len(strings.TrimLeft(s, " "))
		lines = append(lines, line{ind, strings.TrimLeft(s, " "), i + 1})
	}
	pos := 0
	scalar := func(s string, n int) any {
		if strings.HasPrefix(s, `"`) {
			var v string
			if err := json.Unmarshal([]byte(s), &v); err != nil {
				t.Fatalf("line %d: bad quoted scalar %s", n, s)
			}
			return v
		}
		if v, err := strconv.Atoi(s); err == nil {
			return v
		}
		if s == "true" || s == "false" {
			return s == "true"
		}
		t.Fatalf("line %d: scalar %q outside the subset", n, s)
		return nil
	}
	var parse func(indent int) any
	keyRE := regexp.MustCompile(`^([A-Za-z0-9_./-]+):(?: (.*))?$`)
	parse = func(indent int) any {
		if pos < len(lines) && lines[pos].indent == indent && strings.HasPrefix(lines[pos].text, "- ") {
			var seq []any
			for pos < len(lines) && lines[pos].indent == indent && strings.HasPrefix(lines[pos].text, "- ") {
				rest := lines[pos].text[2:]
				if keyRE.MatchString(rest) {
					// A mapping whose first pair is on the dash line.
					lines[pos].indent += 2
					lines[pos].text = rest
					seq = append(seq, parse(indent+2))
				} else {
					seq = append(seq, scalar(rest, lines[pos].n))
					pos++
				}
			}
			return seq
		}
		m := map[string]any{}
		for pos < len(lines) && lines[pos].indent == indent {
			l := lines[pos]
			g := keyRE.FindStringSubmatch(l.text)
			if g == nil {
				t.Fatalf("line %d: %q is not key: value", l.n, l.text)
			}
			if _, dup := m[g[1]]; dup {
				t.Fatalf("line %d: duplicate key %s", l.n, g[1])
			}
			pos++
			if g[2] != "" {
				m[g[1]] = scalar(g[2], l.n)
				continue
			}
			if pos >= len(lines) {
				t.Fatalf("line %d: key without value", l.n)
			}
			next := lines[pos]
			switch {
			case next.indent == indent && strings.HasPrefix(next.text, "- "):
				m[g[1]] = parse(indent)
			case next.indent > indent:
				m[g[1]] = parse(next.indent)
			default:
				t.Fatalf("line %d: key without value", l.n)
			}
		}
		return m
	}
	v := parse(0)
	if pos != len(lines) {
		t.Fatalf("line %d: unexpected indentation", lines[pos].n)
	}
	return v
}

func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			s, _ := v.([]any)
			if k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

func TestK8sManifest(t *testing.T) {
	p := writeSweep(t, sweepTOML)
	sw, err := experiments.LoadSweep(p)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := sw.EmitK8s(&b, 12, "configs/sweeps/x.toml"); err != nil {
		t.Fatal(err)
	}
	doc := parseYAML(t, b.String())
	checks := map[string][2]any{
		"apiVersion":     {get(doc, "apiVersion"), "batch/v1"},
		"kind":           {get(doc, "kind"), "Job"},
		"completionMode": {get(doc, "spec", "completionMode"), "Indexed"},
		"completions":    {get(doc, "spec", "completions"), 12},
		"parallelism":    {get(doc, "spec", "parallelism"), 5},
		"restartPolicy":  {get(doc, "spec", "template", "spec", "restartPolicy"), "Never"},
		"image":          {get(doc, "spec", "template", "spec", "containers", 0, "image"), "registry.example/commgraph:v1"},
		"index arg":      {get(doc, "spec", "template", "spec", "containers", 0, "command", 5), "$(JOB_COMPLETION_INDEX)"},
		"first arg":      {get(doc, "spec", "template", "spec", "containers", 0, "command", 1), "sweep"},
		"index env":      {get(doc, "spec", "template", "spec", "containers", 0, "env", 0, "name"), "JOB_COMPLETION_INDEX"},
		"claim":          {get(doc, "spec", "template", "spec", "volumes", 0, "persistentVolumeClaim", "claimName"), "runs"},
	}
	for name, c := range checks {
		if fmt.Sprint(c[0]) != fmt.Sprint(c[1]) {
			t.Errorf("%s = %v, want %v\n%s", name, c[0], c[1], b.String())
		}
	}
}

// TestSweepRefusesDuplicateTrials: two trials with one run directory (a
// repeated seed, a repeated grid value) are refused before anything runs.
func TestSweepRefusesDuplicateTrials(t *testing.T) {
	for name, body := range map[string]string{
		"seeds":      "name = \"d\"\nbase = \"base.toml\"\nseeds = [1, 1]\nout_dir = \"OUT\"\n",
		"grid value": "name = \"d\"\nbase = \"base.toml\"\nseeds = [1]\nout_dir = \"OUT\"\n[grid]\n\"algorithm.fake.lr\" = [1e-3, 1e-3]\n",
	} {
		sw, err := experiments.LoadSweep(writeSweep(t, body))
		if err != nil {
			t.Fatal(err)
		}
		_, err = sw.Trials()
		if err == nil || !strings.Contains(err.Error(), "trials 0 and 1 both run in") {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

// TestSweepGridPathsRelativeToSweepFile: a relative trace path in a grid
// (or [set]) is a path relative to the sweep file, as in a config file; the
// trial directory keeps the value as written.
func TestSweepGridPathsRelativeToSweepFile(t *testing.T) {
	p := writeSweep(t, "name = \"tr\"\nbase = \"base.toml\"\nseeds = [1]\nout_dir = \"OUT\"\n[grid]\n\"env.dram.trace\" = [\"traces/a.stl\", \"random\"]\n")
	sw, err := experiments.LoadSweep(p)
	if err != nil {
		t.Fatal(err)
	}
	trials, err := sw.Trials()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"tr/trace-traces_a.stl/seed-1": filepath.Join(filepath.Dir(p), "traces", "a.stl"), "tr/trace-random/seed-1": "random"}
	for _, tr := range trials {
		cfg := tr.Config()
		got := reflect.ValueOf(cfg.Env.Table("dram")).FieldByName("Trace").String()
		if w, ok := want[tr.Dir]; !ok || got != w {
			t.Errorf("trial %s: trace %q, want %q", tr.Dir, got, w)
		}
	}
}

// TestInterruptedSweepStartsNoOtherTrial: once the context is cancelled
// (SIGINT), no further trial starts, even one already handed to a worker.
func TestInterruptedSweepStartsNoOtherTrial(t *testing.T) {
	sw, err := experiments.LoadSweep(writeSweep(t, "name = \"int\"\nbase = \"base.toml\"\nseeds = [1, 2, 3]\nout_dir = \"OUT\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	trials, err := sw.Trials()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var reported []int
	res, err := experiments.RunTrials(ctx, trials, 1, experiments.RunOptions{}, func(tr experiments.Trial, _ experiments.Summary, _ error) {
		reported = append(reported, tr.Index)
		cancel() // the user presses Ctrl-C as the first trial ends
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Ran != 1 || len(reported) != 1 {
		t.Errorf("ran %d, reported %v after the interruption; want only trial 0", res.Ran, reported)
	}
	root, _ := sw.Root()
	for _, tr := range trials[1:] {
		if _, err := os.Stat(filepath.Join(root, "..", filepath.FromSlash(tr.Dir))); err == nil {
			t.Errorf("trial %d was started after the interruption", tr.Index)
		}
	}
}

// TestSweepGridRelativePaths: a grid of relative trace paths (resolved
// against the sweep file) gives valid, distinct run directories; a ".."
// in a value never reaches the run name.
func TestSweepGridRelativePaths(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"traces/a.stl", "traces/b.stl"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte("0: read 0x0\n10: write 0x40\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sweeps := filepath.Join(dir, "sweeps")
	if err := os.MkdirAll(sweeps, 0o755); err != nil {
		t.Fatal(err)
	}
	base := "name = \"b\"\nout_dir = \"" + filepath.ToSlash(filepath.Join(dir, "runs")) + "\"\n[env]\nkind = \"dram\"\n[algorithm]\nkind = \"random\"\n[budget]\niterations = 1\n"
	sweep := "name = \"rel\"\nbase = \"base.toml\"\n[grid]\n\"env.dram.trace\" = [\"../traces/a.stl\", \"../traces/b.stl\"]\n"
	for name, body := range map[string]string{"base.toml": base, "sw.toml": sweep} {
		if err := os.WriteFile(filepath.Join(sweeps, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sw, err := experiments.LoadSweep(filepath.Join(sweeps, "sw.toml"))
	if err != nil {
		t.Fatal(err)
	}
	trials, err := sw.Trials()
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != 2 || trials[0].Name != "rel/trace-__traces_a.stl" || trials[1].Name != "rel/trace-__traces_b.stl" {
		t.Fatalf("trials %+v", trials)
	}
	for i, tr := range trials {
		c := tr.Config()
		if got, want := filepath.Clean(c.Env.Table("dram").(dram.EnvConfig).Trace), filepath.Join(dir, "traces", string(rune('a'+i))+".stl"); got != want {
			t.Errorf("trial %d: trace %s, want %s", i, got, want)
		}
	}
}

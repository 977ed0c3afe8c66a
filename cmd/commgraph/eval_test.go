package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/experiments"
)

// evalRunTOML is a tiny gated capture-prey run with a checkpoint and an
// evaluation every iteration (gates acting from iteration 2).
const evalRunTOML = `name = "ev"
seed = 3
[env]
kind = "capture"
[algorithm]
kind = "commformer"
[algorithm.commformer]
embed_dim = 16
num_envs = 2
rollout_steps = 20
epochs = 1
sparsity = 0.67
gating = true
gate_start = 2
[budget]
iterations = 3
[eval]
every = 1
episodes = 6
[log]
timing = false
[checkpoint]
every = 1
keep = 5
`

func evalJSON(t *testing.T, args ...string) evalOutput {
	t.Helper()
	var out, errb bytes.Buffer
	if code := dispatch(append([]string{"eval"}, append(args, "--json")...), &out, &errb); code != 0 {
		t.Fatalf("eval %v: code %d: %s", args, code, errb.String())
	}
	var o evalOutput
	if err := json.Unmarshal(out.Bytes(), &o); err != nil {
		t.Fatalf("eval %v: %v\n%s", args, err, out.String())
	}
	return o
}

// TestEval: evaluating a checkpoint again with the run's own episode count
// gives exactly the evaluation the run logged for that iteration (so a
// larger --episodes measures the same policy, only with less noise); the
// checkpoint picks (--iter, --last, a file) and the mean are right; bad
// arguments are usage errors (status 2) that name what is wrong.
func TestEval(t *testing.T) {
	tmp := t.TempDir()
	cfg := filepath.Join(tmp, "ev.toml")
	writeFile(t, cfg, "out_dir = \""+filepath.Join(tmp, "runs")+"\"\n"+evalRunTOML)
	var out, errb bytes.Buffer
	if code := dispatch([]string{"run", cfg}, &out, &errb); code != 0 {
		t.Fatalf("run: code %d: %s", code, errb.String())
	}
	run := filepath.Join(tmp, "runs", "ev", "seed-3")
	rows, err := experiments.ReadMetricsJSONL(filepath.Join(run, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	logged := func(it int) map[string]float64 {
		for _, r := range rows {
			if int(r["iteration"]) == it {
				m := map[string]float64{}
				for k, v := range r {
					if strings.HasPrefix(k, "eval_") {
						m[k] = v
					}
				}
				return m
			}
		}
		t.Fatalf("no metrics row %d", it)
		return nil
	}

	o := evalJSON(t, run, "--iter", "1,3")
	if len(o.Checkpoints) != 2 || o.Checkpoints[0].Iteration != 1 || o.Checkpoints[1].Iteration != 3 || o.Episodes != 6 {
		t.Fatalf("--iter 1,3: got %+v", o)
	}
	for _, c := range o.Checkpoints {
		want := logged(c.Iteration)
		if len(want) < 5 {
			t.Fatalf("iteration %d: logged eval columns %v", c.Iteration, want)
		}
		for k, v := range want {
			if c.Metrics[k] != v {
				t.Errorf("iteration %d: %s = %v, the run logged %v", c.Iteration, k, c.Metrics[k], v)
			}
		}
		if len(c.Metrics) != len(want) {
			t.Errorf("iteration %d: keys %v, logged %v", c.Iteration, c.Metrics, want)
		}
	}
	if g := o.Checkpoints[1].Metrics["eval_receive_rate"]; !(g >= 0 && g <= 1) {
		t.Errorf("receive rate %v of a gated checkpoint", g)
	}
	for k, v := range o.Mean {
		if w := (o.Checkpoints[0].Metrics[k] + o.Checkpoints[1].Metrics[k]) / 2; v != w {
			t.Errorf("mean %s = %v, want %v", k, v, w)
		}
	}

	// Default: the newest checkpoint; a checkpoint file gives the same.
	d := evalJSON(t, run, "--episodes", "40")
	f := evalJSON(t, filepath.Join(run, "checkpoints", "iter-000003.ckpt"), "--episodes", "40")
	if len(d.Checkpoints) != 1 || d.Checkpoints[0].Iteration != 3 || d.Episodes != 40 || d.Mean != nil {
		t.Fatalf("default pick: %+v", d)
	}
	for k, v := range d.Checkpoints[0].Metrics {
		if f.Checkpoints[0].Metrics[k] != v {
			t.Errorf("checkpoint file: %s = %v, run directory %v", k, f.Checkpoints[0].Metrics[k], v)
		}
	}
	// The first 6 of 40 episodes are the run's own 6: 40 episodes differ
	// from 6 (else --episodes would do nothing).
	if d.Checkpoints[0].Metrics["eval_episodes"] != 40 {
		t.Errorf("eval_episodes %v, want 40", d.Checkpoints[0].Metrics["eval_episodes"])
	}

	out.Reset()
	if code := dispatch([]string{"eval", run, "--last", "2"}, &out, &errb); code != 0 {
		t.Fatalf("--last 2: code %d: %s", code, errb.String())
	}
	for _, want := range []string{"6 evaluation episodes", "│ 2 ", "│ 3 ", "mean", "receive_rate", "length"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--last 2 table lacks %q:\n%s", want, out.String())
		}
	}

	bad := filepath.Join(tmp, "notes.txt")
	writeFile(t, bad, "x")
	damaged := filepath.Join(run, "checkpoints", "iter-000009.ckpt")
	writeFile(t, damaged, "not a checkpoint")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{run, "--iter", "7"}, 2, "no checkpoint of iteration 7 (checkpoints: 1, 2, 3, 9)"},
		{[]string{run, "--iter", "2", "--last", "1"}, 2, "exclude each other"},
		{[]string{run, "--iter", "2,x"}, 2, "--iter"},
		{[]string{run, "--iter", "2,2"}, 2, "given twice"},
		{[]string{run, "--last", "0"}, 2, "--last 0"},
		{[]string{run, "--episodes", "0"}, 2, "--episodes 0"},
		{[]string{filepath.Join(tmp, "nope")}, 2, "no such file"},
		{[]string{bad}, 2, "want a run directory or a checkpoints/iter-N.ckpt"},
		{[]string{tmp}, 2, "not a run directory"},
		{[]string{filepath.Join(run, "checkpoints", "iter-000002.ckpt"), "--last", "1"}, 2, "pick checkpoints of a run directory"},
		{[]string{}, 2, "want exactly one"},
		{[]string{damaged}, 1, "iter-000009.ckpt"},
	} {
		out.Reset()
		errb.Reset()
		code := dispatch(append([]string{"eval"}, tc.args...), &out, &errb)
		if code != tc.code || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("eval %v: code %d, stderr %q; want code %d and %q", tc.args, code, errb.String(), tc.code, tc.want)
		}
		if out.Len() > 0 {
			t.Errorf("eval %v: printed %q on failure", tc.args, out.String())
		}
	}
	if err := os.Remove(damaged); err != nil {
		t.Fatal(err)
	}
}

// TestEvalTableDesignSearch: a design search's evaluation (no episodes, its
// own iteration among the metrics) gets a title that says so and no second
// iteration column.
func TestEvalTableDesignSearch(t *testing.T) {
	var buf bytes.Buffer
	out := evalOutput{Run: "r", Checkpoints: []experiments.CheckpointEval{{Iteration: 2,
		Metrics: map[string]float64{"eval_iteration": 2, "eval_best_value": 75390, "eval_regret": 0.004}}}}
	if err := writeEvalTable(&buf, out); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	if !strings.Contains(s, "runs no episodes") || strings.Contains(s, "0 evaluation episodes") {
		t.Errorf("title of a design search's evaluation:\n%s", s)
	}
	if strings.Count(s, "iteration") != 1 || !strings.Contains(s, "best_value") || !strings.Contains(s, "75390") {
		t.Errorf("columns:\n%s", s)
	}
}

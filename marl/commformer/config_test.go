package commformer

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/comm"
)

// TestConfigValidate: the defaults are valid, zeros that mean "off" are
// accepted as written, and every out-of-range field is named.
func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tc := range []struct {
		name string
		set  func(c *Config)
		want string // "" = valid
	}{
		{"no warm-up", func(c *Config) { c.Warmup = 0 }, ""},
		{"alpha never updated", func(c *Config) { c.AlphaEvery = 0 }, ""},
		{"no gradient clip", func(c *Config) { c.MaxGradNorm = 0 }, ""},
		{"no entropy bonus", func(c *Config) { c.EntropyCoef = 0 }, ""},
		{"gate bias zero", func(c *Config) { c.GateBias = 0 }, ""},
		{"gae lambda zero", func(c *Config) { c.Lambda = 0 }, ""},
		{"file with a matrix", func(c *Config) { c.Graph = comm.File; c.Adjacency = [][]float64{{1}} }, ""},
		{"sparsity zero", func(c *Config) { c.Sparsity = 0 }, "sparsity"},
		{"negative warm-up", func(c *Config) { c.Warmup = -1 }, "warmup"},
		{"clip one", func(c *Config) { c.Clip = 1 }, "clip"},
		{"clip zero", func(c *Config) { c.Clip = 0 }, "clip"},
		{"lr NaN", func(c *Config) { c.LR = math.NaN() }, "lr"},
		{"adaptive rate", func(c *Config) { c.TargetKL = 0.01 }, ""},
		{"negative target_kl", func(c *Config) { c.TargetKL = -0.01 }, "target_kl"},
		{"target_kl NaN", func(c *Config) { c.TargetKL = math.NaN() }, "target_kl"},
		{"lr_min zero", func(c *Config) { c.LRMin = 0 }, "lr_min"},
		{"lr_min above lr", func(c *Config) { c.TargetKL, c.LRMin = 0.01, 1e-3 }, "lr_min"},
		{"lr_max below lr", func(c *Config) { c.TargetKL, c.LRMax = 0.01, 1e-4 }, "lr_max"},
		{"bounds ignored without target_kl", func(c *Config) { c.LRMin, c.LRMax = 1e-3, 1e-4 }, ""},
		{"entropy floor", func(c *Config) { c.EntropyTarget = 0.3 }, ""},
		{"entropy_target one", func(c *Config) { c.EntropyTarget = 1 }, "entropy_target"},
		{"negative entropy_target", func(c *Config) { c.EntropyTarget = -0.1 }, "entropy_target"},
		{"entropy_target NaN", func(c *Config) { c.EntropyTarget = math.NaN() }, "entropy_target"},
		{"entropy_coef_max zero", func(c *Config) { c.EntropyCoefMax = 0 }, "entropy_coef_max"},
		{"entropy_coef_max below entropy_coef", func(c *Config) { c.EntropyTarget, c.EntropyCoefMax = 0.3, 0.005 }, "entropy_coef_max"},
		{"entropy_coef_max below entropy_final", func(c *Config) { c.EntropyTarget, c.EntropyDecay, c.EntropyFinal = 0.3, 10, 2 }, "entropy_coef_max"},
		{"entropy_coef_max ignored without entropy_target", func(c *Config) { c.EntropyCoefMax = 0.005 }, ""},
		{"tau infinite", func(c *Config) { c.Tau = math.Inf(1) }, "tau"},
		{"alpha_every negative", func(c *Config) { c.AlphaEvery = -1 }, "alpha_every"},
		{"heads do not divide", func(c *Config) { c.Embed = 10; c.Heads = 4 }, "heads"},
		{"minibatches beyond the batch", func(c *Config) { c.Envs, c.Steps, c.Minibatches = 2, 3, 7 }, "minibatches"},
		{"unknown graph", func(c *Config) { c.Graph = "dense" }, "graph"},
		{"file without a file", func(c *Config) { c.Graph = comm.File }, "graph_file"},
		{"gate bias beyond 20", func(c *Config) { c.GateBias = 21 }, "gate_bias"},
		{"negative gate cost", func(c *Config) { c.GateLambda = -1 }, "gate_cost"},
		{"no envs", func(c *Config) { c.Envs = 0 }, "num_envs"},
		{"entropy decays to zero", func(c *Config) { c.EntropyDecay, c.EntropyFinal = 10, 0 }, ""},
		{"negative entropy decay", func(c *Config) { c.EntropyDecay = -1 }, "entropy_decay"},
		{"negative gate start", func(c *Config) { c.GateStart = -1 }, "gate_start"},
		{"negative final entropy", func(c *Config) { c.EntropyDecay, c.EntropyFinal = 10, -0.1 }, "entropy_final"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.set(&c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tc.want != "" && err == nil:
				t.Fatal("accepted")
			case tc.want != "" && !strings.HasPrefix(err.Error(), tc.want+" "):
				t.Fatalf("error %q does not start with the key %s", err, tc.want)
			}
		})
	}
}

// TestNewUsesConfigAsGiven: a zero that means "off" reaches the trainer
// (the old scheme replaced it by the default).
func TestNewUsesConfigAsGiven(t *testing.T) {
	c := tinyConfig()
	c.Warmup, c.AlphaEvery, c.MaxGradNorm, c.EntropyCoef, c.GateBias = 0, 0, 0, 0, 0
	tr, err := New(&signalEnv{Len: 3}, c, 1)
	if err != nil {
		t.Fatal(err)
	}
	got := tr.Config()
	if got.Warmup != 0 || got.AlphaEvery != 0 || got.MaxGradNorm != 0 || got.EntropyCoef != 0 || got.GateBias != 0 {
		t.Fatalf("zeros replaced: %+v", got)
	}
	c.Clip = 0
	if _, err := New(&signalEnv{Len: 3}, c, 1); err == nil || !strings.Contains(err.Error(), "clip") {
		t.Fatalf("clip 0: %v", err)
	}
}

// TestEntropySchedule: with entropy_decay the loss's entropy coefficient
// falls linearly from entropy_coef to entropy_final and then stays; the
// first iteration trains exactly as a constant coefficient does, later
// ones differ, and the coefficient of each iteration is logged.
func TestEntropySchedule(t *testing.T) {
	c := tinyConfig()
	c.EntropyCoef = 0.5
	constant, err := New(&signalEnv{Len: 3}, c, 1)
	if err != nil {
		t.Fatal(err)
	}
	c.EntropyDecay, c.EntropyFinal = 2, 0.1
	decay, err := New(&signalEnv{Len: 3}, c, 1)
	if err != nil {
		t.Fatal(err)
	}
	wantCoef := []float64{0.5, 0.3, 0.1, 0.1}
	for it, want := range wantCoef {
		if got := decay.entropyCoef(); math.Abs(got-want) > 1e-12 {
			t.Fatalf("iteration %d: coefficient %v, want %v", it, got, want)
		}
		mc, err := constant.Iterate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		md, err := decay.Iterate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(md["entropy_coef"]-want) > 1e-12 {
			t.Fatalf("iteration %d: logged entropy_coef %v, want %v", it, md["entropy_coef"], want)
		}
		if _, ok := mc["entropy_coef"]; ok {
			t.Fatal("a constant coefficient is logged as a schedule")
		}
		same := mc["policy_loss"] == md["policy_loss"] && mc["entropy"] == md["entropy"]
		if it == 0 && !same {
			t.Fatalf("iteration 0 differs with the same coefficient: %v/%v against %v/%v", mc["policy_loss"], mc["entropy"], md["policy_loss"], md["entropy"])
		}
		if it == 1 && same {
			t.Fatal("iteration 1 trains as the constant coefficient although the schedule lowered it")
		}
	}
}

// TestGateStart: before gate_start every gate is held open, in acting and
// in training, and the gate's parameters get no gradient; from gate_start on
// the learned gate decides (here a bias of -8 closes nearly every gate).
func TestGateStart(t *testing.T) {
	c := tinyConfig()
	c.Gate, c.GateBias, c.GateStart = true, -8, 2
	tr, err := New(&signalEnv{Len: 3}, c, 1)
	if err != nil {
		t.Fatal(err)
	}
	gateParams := func() []float64 { return flatValues(tr.m.gate.W2, tr.m.gate.B2) }
	before := gateParams()
	for it := 0; it < 3; it++ {
		m, err := tr.Iterate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case it < 2 && m["receive_rate"] != 1:
			t.Fatalf("iteration %d (held): receive rate %v, want 1", it, m["receive_rate"])
		case it < 2 && !slices.Equal(gateParams(), before):
			t.Fatalf("iteration %d (held): the gate's parameters moved", it)
		case it == 2 && m["receive_rate"] > 0.1:
			t.Fatalf("iteration 2 (gated, bias -8): receive rate %v, want about 0", m["receive_rate"])
		}
		if it == 1 {
			e, err := tr.Evaluate(context.Background(), 4)
			if err != nil {
				t.Fatal(err)
			}
			if e["eval_receive_rate"] > 0.1 {
				t.Fatalf("evaluation after gate_start: receive rate %v, want about 0", e["eval_receive_rate"])
			}
		}
	}
}

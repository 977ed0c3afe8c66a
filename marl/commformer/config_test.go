package commformer

import (
	"math"
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
		{"tau infinite", func(c *Config) { c.Tau = math.Inf(1) }, "tau"},
		{"alpha_every negative", func(c *Config) { c.AlphaEvery = -1 }, "alpha_every"},
		{"heads do not divide", func(c *Config) { c.Embed = 10; c.Heads = 4 }, "heads"},
		{"minibatches beyond the batch", func(c *Config) { c.Envs, c.Steps, c.Minibatches = 2, 3, 7 }, "minibatches"},
		{"unknown graph", func(c *Config) { c.Graph = "dense" }, "graph"},
		{"file without a file", func(c *Config) { c.Graph = comm.File }, "graph_file"},
		{"gate bias beyond 20", func(c *Config) { c.GateBias = 21 }, "gate_bias"},
		{"negative gate cost", func(c *Config) { c.GateLambda = -1 }, "gate_cost"},
		{"no envs", func(c *Config) { c.Envs = 0 }, "num_envs"},
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

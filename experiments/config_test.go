package experiments

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/envs/dram"
	"github.com/commgraph/commgraph/marl/commformer"
)

var update = flag.Bool("update", false, "regenerate docs/configuration.md's key tables")

func learnerTable(c *Config) commformer.Config {
	return c.Algorithm.Table("commformer").(commformer.Config)
}

func dramTable(c *Config) dram.EnvConfig { return c.Env.Table("dram").(dram.EnvConfig) }

func decodeErr(t *testing.T, src string) string {
	t.Helper()
	_, err := DecodeConfig("x.toml", []byte(src))
	if err == nil {
		t.Fatalf("no error for:\n%s", src)
	}
	return err.Error()
}

func wantAll(t *testing.T, msg string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("error %q does not contain %q", msg, p)
		}
	}
}

// TestDecodeErrors: every bad file is an error naming the file, the line
// and the key path, with what is allowed.
func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      []string
	}{
		{"unknown key lists the known ones", "name = \"a\"\n\n[algorithm.commformer]\nlr = 1e-3\nlearning_rate = 3\n",
			[]string{"x.toml:5", "algorithm.commformer.learning_rate", "unknown key", "known keys in [algorithm.commformer]", "alpha_lr"}},
		{"unknown table", "name = \"a\"\n[env.dram]\ntrace = \"stream\"\n[env.dramm]\nx = 1\n",
			[]string{"x.toml:4", "env.dramm", "unknown key"}},
		{"dotted key", "name = \"a\"\nalgorithm.commformer.lrr = 1\n", []string{"x.toml:2", "algorithm.commformer.lrr"}},
		{"string for a number", "name = \"a\"\n[algorithm.commformer]\nlr = \"fast\"\n",
			[]string{"x.toml:3", "algorithm.commformer.lr", "expected a number", "string"}},
		{"integer for a boolean", "[algorithm.commformer]\ngating = 1\n", []string{"x.toml:2", "algorithm.commformer.gating", "boolean"}},
		{"float for an integer", "[algorithm.commformer]\nepochs = 2.5\n", []string{"x.toml:2", "algorithm.commformer.epochs", "integer"}},
		{"bad array element", "seeds = [1, \"two\"]\n", []string{"x.toml:1", "seeds", "element 1"}},
		{"value for a table", "algorithm = 3\n", []string{"x.toml:1", "algorithm", "table"}},
		{"out of range", "[algorithm.commformer]\nsparsity = 1.5\n", []string{"x.toml:2", "algorithm.commformer.sparsity", "out of range", "(0, 1]"}},
		{"integer out of range", "[algorithm.commformer]\n\nepochs = 0\n", []string{"x.toml:3", "algorithm.commformer.epochs", "[1, 1000]"}},
		{"not an alternative", "[algorithm.commformer]\ngraph = \"dense\"\n", []string{"x.toml:2", "algorithm.commformer.graph", "learned"}},
		{"cross-key rule of the owner", "[algorithm.commformer]\nnum_envs = 2\nrollout_steps = 3\nminibatches = 7\n",
			[]string{"x.toml:4", "algorithm.commformer.minibatches", "6 samples"}},
		{"heads must divide the width", "[algorithm.commformer]\nembed_dim = 10\nheads = 4\n", []string{"x.toml:3", "algorithm.commformer.heads", "embed_dim 10"}},
		{"graph file required", "[algorithm.commformer]\ngraph = \"file\"\n", []string{"algorithm.commformer.graph_file", "required"}},
		{"no budget", "[budget]\niterations = 0\n", []string{"budget.iterations", "no budget"}},
		{"seed twice", "seeds = [1, 1]\n", []string{"seeds", "twice"}},
		{"syntax", "syntax error here\n", []string{"x.toml:1"}},
	} {
		t.Run(tc.name, func(t *testing.T) { wantAll(t, decodeErr(t, tc.src), tc.want...) })
	}
}

// TestDecodeValues: values that the old zero-means-default scheme could not
// express are kept as written.
func TestDecodeValues(t *testing.T) {
	for _, tc := range []struct {
		src   string
		check func(c *Config) bool
	}{
		{"[algorithm.commformer]\nmax_grad_norm = 5\n", func(c *Config) bool { return learnerTable(c).MaxGradNorm == 5 }},
		{"[algorithm.commformer]\nmax_grad_norm = 0\n", func(c *Config) bool { return learnerTable(c).MaxGradNorm == 0 }},
		{"[algorithm.commformer]\nalpha_every = 0\n", func(c *Config) bool { return learnerTable(c).AlphaEvery == 0 }},
		{"[algorithm.commformer]\nwarmup = 0\n", func(c *Config) bool { return learnerTable(c).Warmup == 0 }},
		{"[algorithm.commformer]\ngate_bias = 0\n", func(c *Config) bool { return learnerTable(c).GateBias == 0 }},
		{"[algorithm.commformer]\nentropy_coef = 0\n", func(c *Config) bool { return learnerTable(c).EntropyCoef == 0 }},
		{"[eval]\nthreshold = 0\n", func(c *Config) bool { return c.Eval.Threshold == 0 }},
		{"[algorithm.commformer]\nclip = 0.3\n", func(c *Config) bool { return learnerTable(c).Clip == 0.3 }},
	} {
		cfg, err := DecodeConfig("x.toml", []byte(tc.src))
		if err != nil {
			t.Errorf("%q: %v", tc.src, err)
			continue
		}
		if !tc.check(&cfg) {
			t.Errorf("%q: not kept: %+v", tc.src, cfg.Algorithm)
		}
		// and the learner receives exactly the decoded table
		cf := learnerTable(&cfg)
		got := commFormerConfig(cf, RunInfo{Threads: 3, Budget: cfg.Budget})
		got.Workers, got.Iterations = cf.Workers, cf.Iterations
		if !reflect.DeepEqual(got, cf) {
			t.Errorf("%q: learner config %+v differs from the decoded table %+v", tc.src, got, cf)
		}
	}
}

func TestOverride(t *testing.T) {
	cfg := DefaultConfig()
	for _, kv := range []string{"algorithm.commformer.lr=3e-4", "algorithm.commformer.graph=none", "algorithm.commformer.gating=true", "seeds=[1,2]", "name=abc", "env.dram.trace=\"cloud-1\""} {
		if err := ApplyOverride(&cfg, kv); err != nil {
			t.Fatalf("%s: %v", kv, err)
		}
	}
	if learnerTable(&cfg).LR != 3e-4 || learnerTable(&cfg).Graph != "none" || !learnerTable(&cfg).Gate || len(cfg.Seeds) != 2 || cfg.Name != "abc" || dramTable(&cfg).Trace != "cloud-1" {
		t.Fatalf("overrides not applied: %+v", cfg)
	}
	for _, tc := range []struct {
		kv   string
		want []string
	}{
		{"algorithm.commformer.lrr=3", []string{"algorithm.commformer.lrr", "unknown key", "lr"}},
		{"algorithm.commformer.lr=fast", []string{"algorithm.commformer.lr", "number"}},
		{"algorithm.commformer.epochs=2.5", []string{"algorithm.commformer.epochs", "integer"}},
		{"nope.x=1", []string{"nope.x", "unknown key"}},
		{"algorithm=1", []string{"algorithm", "table"}},
		{"algorithm.commformer.gating", []string{"key=value"}},
		{"algorithm.commformer.gating=", []string{"algorithm.commformer.gating"}},
	} {
		err := ApplyOverride(&cfg, tc.kv)
		if err == nil {
			t.Errorf("%s: no error", tc.kv)
			continue
		}
		wantAll(t, err.Error(), tc.want...)
	}
	// Out-of-range overrides are caught by Validate, naming the key.
	if err := ApplyOverride(&cfg, "algorithm.commformer.sparsity=2"); err != nil {
		t.Fatal(err)
	}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("sparsity 2 validated")
	}
	wantAll(t, err.Error(), "algorithm.commformer.sparsity", "(0, 1]")
}

func TestConfigRoundTrip(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Name = "rt"
	cfg.Seeds = []int64{3, 4}
	for _, kv := range []string{"algorithm.commformer.lr=3e-4", "env.kind=dram", "env.dram.objective=edp"} {
		if err := ApplyOverride(&cfg, kv); err != nil {
			t.Fatal(err)
		}
	}
	enc, err := encodeConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeConfig("resolved.toml", enc)
	if err != nil {
		t.Fatalf("resolved config does not decode: %v\n%s", err, enc)
	}
	enc2, err := encodeConfig(back)
	if err != nil {
		t.Fatal(err)
	}
	if string(enc) != string(enc2) {
		t.Fatalf("round trip changed the config:\n%s\n---\n%s", enc, enc2)
	}
}

// shippedFields is the run schema without the kinds that tests register
// (package experimentstest and the test packages).
func shippedFields() []field {
	var out []field
	for _, f := range schemaFields() {
		if f.group != "" {
			reg := envReg
			if f.group == "algorithm" {
				reg = algReg
			}
			if k, _ := lookupKind(reg, f.kind); strings.HasSuffix(k.table.PkgPath(), "/experimentstest") || strings.HasSuffix(k.table.PkgPath(), "_test") {
				continue
			}
		}
		out = append(out, f)
	}
	return out
}

// TestDocListsEveryKey checks that docs/configuration.md contains the
// generated key tables of the run and sweep schemas, i.e. every key with its
// current default, unit and range. Run with -update to regenerate them.
func TestDocListsEveryKey(t *testing.T) {
	path := filepath.Join("..", "docs", "configuration.md")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for _, sec := range []struct {
		name string
		gen  func() string
		keys []string
	}{{"KEYS", func() string { return schemaMarkdownOf(shippedFields()) }, fieldPaths(shippedFields())}, {"SWEEP KEYS", sweepSchemaMarkdown, sweepKeys()}} {
		begin := "<!-- BEGIN " + sec.name + " (generated by go test ./experiments -run TestDocListsEveryKey -update) -->"
		end := "<!-- END " + sec.name + " -->"
		i, j := strings.Index(doc, begin), strings.Index(doc, end)
		if i < 0 || j < i {
			t.Fatalf("%s lacks the markers %q ... %q", path, begin, end)
		}
		want := sec.gen()
		if *update {
			doc = doc[:i+len(begin)] + "\n" + want + "\n" + doc[j:]
			continue
		}
		if got := strings.TrimSpace(doc[i+len(begin) : j]); got != strings.TrimSpace(want) {
			t.Errorf("%s is out of date with the %s schema; run go test ./experiments -run TestDocListsEveryKey -update", path, sec.name)
		}
		for _, k := range sec.keys {
			if !strings.Contains(doc[i:j], "| `"+k+"` |") {
				t.Errorf("%s does not list key %s", path, k)
			}
		}
	}
	if *update {
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

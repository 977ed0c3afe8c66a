package experiments

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzDecodeConfig: any bytes decode to a valid config or to an error naming
// the file, never a panic; a decoded config encodes to TOML that decodes to
// the same config (the resolved config.toml of a run repeats the run).
//
//	go test ./experiments -run '^$' -fuzz '^FuzzDecodeConfig$' -fuzztime 10s
func FuzzDecodeConfig(f *testing.F) {
	shipped, _ := filepath.Glob(filepath.Join("..", "configs", "*.toml"))
	for _, p := range shipped {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		"",
		"name = \"a\"\n[env]\nkind = \"synthetic\"\n[env.synthetic]\nknobs = 4\npairs = 2\n",
		"[algorithm]\nkind = \"genetic\"\n[algorithm.genetic]\nbatch = 3\nmutation = 0\n",
		"[algorithm.commformer]\nlr = 1e-3\nminibatches = 5000\n",
		"seeds = [1, 2, 2]\n[eval]\nthreshold = nan\n",
		"[env.dram]\ntrace = \"x\\\"y\"\noptimum_file = \"\"\"multi\nline\"\"\"\n",
		"a.b.c = [1, [2, 3]]\n[[env]]\nkind = 1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := DecodeConfig("f.toml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.toml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("decoded config does not validate: %v", err)
		}
		enc, err := encodeConfig(cfg)
		if err != nil {
			t.Fatalf("decoded config does not encode: %v", err)
		}
		back, err := DecodeConfig("resolved.toml", enc)
		if err != nil {
			t.Fatalf("resolved config does not decode: %v\n%s", err, enc)
		}
		enc2, err := encodeConfig(back)
		if err != nil || string(enc2) != string(enc) {
			t.Fatalf("round trip changed the config (%v):\n%s\n---\n%s", err, enc, enc2)
		}
	})
}

// FuzzReadMetrics: the metrics readers accept any bytes without panicking;
// a damaged metrics.jsonl line is an error naming path:line; rows read from
// metrics.jsonl survive being written and read again
// unchanged (bit for bit, NaN and infinities included), and rows read from
// metrics.csv only have keys of the header.
//
//	go test ./experiments -run '^$' -fuzz '^FuzzReadMetrics$' -fuzztime 10s
func FuzzReadMetrics(f *testing.F) {
	f.Add([]byte("{\"iteration\":1,\"env_steps\":4000,\"eval_return\":\"NaN\"}\n{\"iteration\":2,\"x\":\"-Inf\"}\n{\"iter"))
	f.Add([]byte("iteration,env_steps,regret\n1,4000,0.5\n2,,Inf\n"))
	f.Add([]byte("{\"a\":-0}\n{\"a\":1e308,\"a\":2}\nnot json\n{\"b\":1}\n"))
	f.Add([]byte("a,b\n1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "metrics")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		rows, err := ReadMetricsJSONL(path)
		if err != nil {
			// A damaged line is an error naming path:line, the line after
			// the good rows returned with it.
			var le *MetricsLineError
			if !errors.As(err, &le) || le.Line != len(rows)+1 || !strings.Contains(err.Error(), fmt.Sprintf("%s:%d:", path, le.Line)) {
				t.Fatalf("jsonl reader: %v after %d rows", err, len(rows))
			}
		}
		var again []byte
		for _, r := range rows {
			again = append(again, encodeJSONL(r)...)
		}
		if err := os.WriteFile(path, again, 0o644); err != nil {
			t.Fatal(err)
		}
		back, err := ReadMetricsJSONL(path)
		if err != nil || len(back) != len(rows) {
			t.Fatalf("rewritten jsonl: %d rows (%v), want %d", len(back), err, len(rows))
		}
		for i := range rows {
			if len(back[i]) != len(rows[i]) {
				t.Fatalf("row %d: %v, want %v", i, back[i], rows[i])
			}
			for k, v := range rows[i] {
				w, ok := back[i][k]
				if !ok || (math.Float64bits(w) != math.Float64bits(v) && !(math.IsNaN(v) && math.IsNaN(w))) {
					t.Fatalf("row %d key %q: %v, want %v", i, k, w, v)
				}
			}
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		crows, err := ReadMetricsCSV(path)
		if err != nil {
			return
		}
		header, _, _ := strings.Cut(string(data), "\n")
		cols := strings.Split(strings.TrimSuffix(header, "\r"), ",")
		for i, r := range crows {
			for k := range r {
				if !slices.Contains(cols, k) {
					t.Fatalf("csv row %d has key %q outside the header %q", i, k, header)
				}
			}
		}
	})
}

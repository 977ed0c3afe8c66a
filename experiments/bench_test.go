package experiments_test

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/commgraph/commgraph/experiments"
)

// BenchmarkRunnerOverhead measures what the runner adds per iteration
// (metrics rows to JSONL and CSV, a graph snapshot and a checkpoint every
// 10 iterations) around the fake algorithm, whose own work is negligible.
func BenchmarkRunnerOverhead(b *testing.B) {
	const iters = 200
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for b.Loop() {
		cfg := experiments.DefaultConfig()
		cfg.Name = "bench"
		cfg.OutDir = b.TempDir()
		cfg.Env.Kind, cfg.Algorithm.Kind = "fake", "fake"
		cfg.Budget.Iterations = iters
		cfg.Eval.Every, cfg.Log.GraphEvery, cfg.Checkpoint.Every = 10, 10, 10
		if _, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{Logger: quiet}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*iters), "ns/iteration")
}

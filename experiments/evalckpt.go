package experiments

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/commgraph/commgraph/marl"
)

// ErrNoCheckpoint: the argument of an evaluation names no checkpoint (no
// such file, not a run directory with checkpoints, no checkpoint of the asked
// iteration). The command maps it to a usage error.
var ErrNoCheckpoint = errors.New("no checkpoint")

// CheckpointEval is the evaluation of one checkpoint.
type CheckpointEval struct {
	Path      string       `json:"checkpoint"`
	Iteration int          `json:"iteration"`
	Metrics   marl.Metrics `json:"metrics"` // eval_* keys, as the run logs them
}

// EvalCheckpoints picks checkpoints of a run and evaluates each: path is a
// run directory or a checkpoints/iter-N.ckpt file; iters names iterations
// of the run directory (none: the newest checkpoint), last > 0 takes the
// newest last checkpoints instead. Each checkpoint is loaded into the
// algorithm rebuilt from the run's config.toml and evaluated on episodes
// episodes (0: the run's eval.episodes), the same way the run evaluates
// itself: with the run's eval.episodes the numbers are those of the run's
// metrics row of that iteration. Results come oldest first.
func EvalCheckpoints(ctx context.Context, path string, iters []int, last, episodes int) ([]CheckpointEval, error) {
	paths, err := pickCheckpoints(path, iters, last)
	if err != nil {
		return nil, err
	}
	runDir := filepath.Dir(filepath.Dir(paths[0]))
	cfg, err := LoadConfig(filepath.Join(runDir, "config.toml"))
	if err != nil {
		return nil, err
	}
	if episodes == 0 {
		episodes = cfg.Eval.Episodes
	}
	if episodes < 1 {
		return nil, fmt.Errorf("%s: eval.episodes is %d: give the number of episodes (--episodes)", filepath.Join(runDir, "config.toml"), episodes)
	}
	out := make([]CheckpointEval, 0, len(paths))
	for _, p := range paths {
		// A fresh algorithm per checkpoint: nothing of one evaluation
		// (environment state, caches) reaches the next.
		m, it, err := evalOne(ctx, &cfg, p, episodes)
		if err != nil {
			return nil, err
		}
		out = append(out, CheckpointEval{Path: p, Iteration: it, Metrics: m})
	}
	return out, nil
}

func evalOne(ctx context.Context, cfg *Config, path string, episodes int) (marl.Metrics, int, error) {
	out, it := marl.Metrics{}, 0
	err := withCheckpoint(*cfg, path, func(alg marl.Algorithm) error {
		m, err := alg.Evaluate(ctx, episodes)
		if err != nil {
			return fmt.Errorf("%s: evaluation: %w", path, err)
		}
		for k, v := range m {
			if !strings.HasPrefix(k, "eval_") {
				k = "eval_" + k
			}
			out[k] = v
		}
		it = alg.Iteration()
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, it, nil
}

// pickCheckpoints resolves EvalCheckpoints' arguments to checkpoint files,
// oldest first.
func pickCheckpoints(path string, iters []int, last int) ([]string, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w: no such file or directory", path, ErrNoCheckpoint)
	}
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		if !strings.HasSuffix(path, ".ckpt") {
			return nil, fmt.Errorf("%s: %w: want a run directory or a checkpoints/iter-N.ckpt file", path, ErrNoCheckpoint)
		}
		if len(iters) > 0 || last > 0 {
			return nil, fmt.Errorf("%s: %w: --iter and --last pick checkpoints of a run directory, not of one checkpoint file", path, ErrNoCheckpoint)
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(filepath.Dir(path)), "config.toml")); err != nil {
			return nil, fmt.Errorf("%s: %w: not inside a run directory (RUN/checkpoints/iter-N.ckpt with RUN/config.toml)", path, ErrNoCheckpoint)
		}
		return []string{path}, nil
	}
	if _, err := os.Stat(filepath.Join(path, "config.toml")); err != nil {
		return nil, fmt.Errorf("%s: %w: not a run directory (no config.toml)", path, ErrNoCheckpoint)
	}
	all := listCheckpoints(path) // newest first
	if len(all) == 0 {
		return nil, fmt.Errorf("%s: %w: the run directory has no checkpoints (checkpoints/iter-N.ckpt)", path, ErrNoCheckpoint)
	}
	var out []string
	switch {
	case last > 0:
		for i := min(last, len(all)) - 1; i >= 0; i-- {
			out = append(out, all[i].path)
		}
	case len(iters) > 0:
		for _, it := range iters {
			i := slices.IndexFunc(all, func(c ckptFile) bool { return c.iter == it })
			if i < 0 {
				have := make([]string, len(all))
				for j, c := range all {
					have[len(all)-1-j] = strconv.Itoa(c.iter)
				}
				return nil, fmt.Errorf("%s: %w of iteration %d (checkpoints: %s)", path, ErrNoCheckpoint, it, strings.Join(have, ", "))
			}
			out = append(out, all[i].path)
		}
	default:
		out = []string{all[0].path}
	}
	return out, nil
}

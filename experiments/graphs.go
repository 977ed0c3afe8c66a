package experiments

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/commgraph/commgraph/comm"
	"github.com/commgraph/commgraph/marl"
)

// graphSnapshotFile is one logged graph snapshot of a run.
type graphSnapshotFile struct {
	Iteration int
	Path      string
}

// listGraphSnapshots returns the snapshots in runDir/graphs, by iteration.
func listGraphSnapshots(runDir string) ([]graphSnapshotFile, error) {
	matches, err := filepath.Glob(filepath.Join(runDir, "graphs", "iter-*.json"))
	if err != nil {
		return nil, err
	}
	var out []graphSnapshotFile
	for _, m := range matches {
		s := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(m), "iter-"), ".json")
		if n, err := strconv.Atoi(s); err == nil {
			out = append(out, graphSnapshotFile{n, m})
		}
	}
	slices.SortFunc(out, func(a, b graphSnapshotFile) int { return a.Iteration - b.Iteration })
	return out, nil
}

// ErrNoGraph is wrapped by GraphSource's errors for an argument that names
// no graph to read.
var ErrNoGraph = errors.New("no graph there")

// GraphSource resolves what `commgraph graph export` was pointed at: a run
// directory, one of its snapshot files (graphs/iter-N.json) or one of its
// checkpoints (checkpoints/iter-N.ckpt). It returns the run directory and
// the snapshots selected: iter > 0 picks that iteration, all picks every
// logged one, otherwise the newest. A checkpoint without a logged snapshot of
// its iteration is loaded into a freshly built algorithm to take one.
//
// An argument that names nothing to read (a missing path, a file of another
// kind, an iteration that was not logged, a run without snapshots) is an
// error wrapping ErrNoGraph; a damaged file is another error.
func GraphSource(path string, iter int, all bool) (runDir string, snaps []*comm.Snapshot, err error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil, fmt.Errorf("%s: %w: no such file or directory", path, ErrNoGraph)
	}
	if err != nil {
		return "", nil, err
	}
	switch {
	case st.IsDir():
		runDir = path
	case strings.HasSuffix(path, ".json"):
		s, err := comm.ReadSnapshot(path)
		if err != nil {
			return "", nil, err
		}
		return filepath.Dir(filepath.Dir(path)), []*comm.Snapshot{s}, nil
	case strings.HasSuffix(path, ".ckpt"):
		runDir = filepath.Dir(filepath.Dir(path))
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "iter-"), ".ckpt"))
		if err != nil {
			return "", nil, fmt.Errorf("%s: %w: not a checkpoint name (iter-N.ckpt)", path, ErrNoGraph)
		}
		if iter > 0 && iter != n {
			return "", nil, fmt.Errorf("%w: --iter %d does not match checkpoint %s", ErrNoGraph, iter, path)
		}
		iter, all = n, false
	default:
		return "", nil, fmt.Errorf("%s: %w: want a run directory, a graphs/iter-N.json snapshot or a checkpoints/iter-N.ckpt checkpoint", path, ErrNoGraph)
	}
	files, err := listGraphSnapshots(runDir)
	if err != nil {
		return "", nil, err
	}
	var pick []graphSnapshotFile
	switch {
	case all:
		pick = files
	case iter > 0:
		for _, f := range files {
			if f.Iteration == iter {
				pick = append(pick, f)
			}
		}
		if len(pick) == 0 {
			ck := filepath.Join(runDir, "checkpoints", fmt.Sprintf("iter-%06d.ckpt", iter))
			if _, err := os.Stat(ck); err != nil {
				have := make([]string, len(files))
				for i, f := range files {
					have[i] = strconv.Itoa(f.Iteration)
				}
				return "", nil, fmt.Errorf("%s: %w: no graph snapshot or checkpoint of iteration %d (snapshots: %s)", runDir, ErrNoGraph, iter, strings.Join(have, ", "))
			}
			s, err := snapshotFromCheckpoint(ck)
			if err != nil {
				return "", nil, err
			}
			return runDir, []*comm.Snapshot{s}, nil
		}
	case len(files) > 0:
		pick = files[len(files)-1:]
	}
	if len(pick) == 0 {
		return "", nil, fmt.Errorf("%s: %w: no graph snapshots (graphs/iter-N.json); is it a run directory of an algorithm with a communication graph?", runDir, ErrNoGraph)
	}
	for _, f := range pick {
		s, err := comm.ReadSnapshot(f.Path)
		if err != nil {
			return "", nil, err
		}
		snaps = append(snaps, s)
	}
	return runDir, snaps, nil
}

// snapshotFromCheckpoint rebuilds a run's algorithm from its config.toml,
// loads the checkpoint and takes a graph snapshot.
func snapshotFromCheckpoint(path string) (*comm.Snapshot, error) {
	runDir := filepath.Dir(filepath.Dir(path))
	cfg, err := LoadConfig(filepath.Join(runDir, "config.toml"))
	if err != nil {
		return nil, err
	}
	var s *comm.Snapshot
	err = withCheckpoint(cfg, path, func(alg marl.Algorithm) error {
		g, ok := alg.(GraphSnapshotter)
		if !ok {
			return fmt.Errorf("%s: algorithm %s has no communication graph", path, cfg.Algorithm.Kind)
		}
		v, err := g.GraphSnapshot()
		if err != nil {
			return err
		}
		if s, ok = v.(*comm.Snapshot); !ok {
			return fmt.Errorf("%s: algorithm %s returned a %T, not a comm.Snapshot", path, cfg.Algorithm.Kind, v)
		}
		return nil
	})
	return s, err
}

// withCheckpoint builds the task and algorithm of cfg (with the run's
// seed), loads the checkpoint at path into the algorithm, calls fn with it
// and closes what was built.
func withCheckpoint(cfg Config, path string, fn func(alg marl.Algorithm) error) error {
	task, alg, err := Build(&cfg, uint64(cfg.Seed))
	if err != nil {
		return err
	}
	defer func() {
		if c, ok := alg.(Closer); ok {
			_ = c.Close()
		}
		if task.Close != nil {
			_ = task.Close()
		}
	}()
	if err := loadCheckpointInto(path, alg); err != nil {
		return err
	}
	return fn(alg)
}

// loadCheckpointInto reads a checkpoint file written by the runner into alg.
func loadCheckpointInto(path string, alg marl.Algorithm) error {
	c, err := marl.ReadCheckpoint(path)
	if err != nil {
		return err
	}
	if err := alg.Restore(c); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return nil
}

package sweep

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/commgraph/commgraph/envs"
)

// EvaluatorMaker is implemented by design spaces whose evaluation keeps
// mutable state (for example a simulator reused between runs). Run calls
// NewEvaluator once per worker and calls the returned function from that
// worker's goroutine only, so the function needs no locks. Spaces without
// it are evaluated through DesignSpace.Evaluate, which must be safe for
// concurrent use.
type EvaluatorMaker interface {
	NewEvaluator() func(cfg []int, out []float64) error
}

// DefaultChunkSize is the number of configurations per chunk (the most work
// an interrupted sweep loses per worker).
const DefaultChunkSize = 2048

// Options tunes Run.
type Options struct {
	// Jobs is the number of workers; <= 0 means runtime.GOMAXPROCS(0).
	Jobs int
	// ChunkSize is the number of configurations per chunk; <= 0 means
	// DefaultChunkSize. It changes only how often the file is synced, never
	// its contents.
	ChunkSize int
	// Progress, when set, is called from Run's goroutine after every chunk
	// is durably written (and once at the start).
	Progress func(Progress)
}

// Progress reports how far a sweep is.
type Progress struct {
	Done    int64 // configurations stored, including those resumed
	Total   int64 // configurations in the space
	Resumed int64 // configurations found in the partial file at the start
}

// Stats summarises a finished (or interrupted) Run.
type Stats struct {
	Total     int64 // configurations in the space
	Resumed   int64 // configurations already stored when Run started
	Evaluated int64 // configurations evaluated and stored by this Run
}

// PartialPath returns the name of the in-progress file of a sweep to path.
func PartialPath(path string) string { return path + ".partial" }

// Run evaluates every configuration of ds and writes the table to path
// (see the package documentation for the layout). It resumes from
// PartialPath(path) when that exists, and does nothing when path already
// holds the complete table of the same space. When ctx is cancelled or an
// evaluation fails, the records finished so far stay in the partial file
// and Run returns the error; calling Run again continues.
func Run(ctx context.Context, ds envs.DesignSpace, path string, opt Options) (Stats, error) {
	h := HeaderOf(ds)
	if err := h.validate(); err != nil {
		return Stats{}, fmt.Errorf("space %s: %w", ds.Name(), err)
	}
	hdr, err := encodeHeader(h)
	if err != nil {
		return Stats{}, err
	}
	st := Stats{Total: h.Configs}
	rec := h.RecordSize()
	radices := h.Radices()

	// A complete table of the same space: nothing to do.
	if done, err := completeMatches(path, hdr, h.Configs*rec); err != nil {
		return st, err
	} else if done {
		st.Resumed = h.Configs
		if opt.Progress != nil {
			opt.Progress(Progress{Done: h.Configs, Total: h.Configs, Resumed: h.Configs})
		}
		return st, nil
	}

	part := PartialPath(path)
	f, start, err := openPartial(part, hdr, rec)
	if err != nil {
		return st, err
	}
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	st.Resumed = start
	if start > 0 {
		if err := checkResume(ds, f, int64(len(hdr)), start, rec, radices); err != nil {
			return st, fmt.Errorf("%s: %w", part, err)
		}
	}
	if opt.Progress != nil {
		opt.Progress(Progress{Done: start, Total: h.Configs, Resumed: start})
	}

	if start < h.Configs {
		n, err := evaluateInto(ctx, ds, f, start, h.Configs, radices, len(h.Metrics), opt, func(done int64) {
			if opt.Progress != nil {
				opt.Progress(Progress{Done: done, Total: h.Configs, Resumed: start})
			}
		})
		st.Evaluated = n
		if err != nil {
			return st, err
		}
	}
	if err := f.Sync(); err != nil {
		return st, fmt.Errorf("%s: %w", part, err)
	}
	if err := f.Close(); err != nil {
		f = nil
		return st, fmt.Errorf("%s: %w", part, err)
	}
	f = nil
	if err := os.Rename(part, path); err != nil {
		return st, fmt.Errorf("finish sweep: %w", err)
	}
	syncDir(filepath.Dir(path))
	return st, nil
}

// completeMatches reports whether path holds a complete table with header
// hdr; it fails when path holds something else.
func completeMatches(path string, hdr []byte, dataSize int64) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	got := make([]byte, len(hdr))
	if _, err := io.ReadFull(f, got); err != nil || !bytes.Equal(got, hdr) {
		return false, fmt.Errorf("%s exists and is not a sweep of this space; remove it or choose another output", path)
	}
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	if fi.Size() != int64(len(hdr))+dataSize {
		return false, fmt.Errorf("%s has the header of this sweep but %d bytes instead of %d; remove it", path, fi.Size(), int64(len(hdr))+dataSize)
	}
	return true, nil
}

// openPartial opens (or creates) the partial file, checks its header,
// drops a torn trailing record and returns the file positioned at its end
// with the number of records it holds.
func openPartial(part string, hdr []byte, rec int64) (*os.File, int64, error) {
	f, err := os.OpenFile(part, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		f, err = os.OpenFile(part, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return nil, 0, err
		}
		if _, err := f.Write(hdr); err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("%s: %w", part, err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("%s: %w", part, err)
		}
		return f, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	got := make([]byte, len(hdr))
	if _, err := io.ReadFull(f, got); err != nil || !bytes.Equal(got, hdr) {
		f.Close()
		return nil, 0, fmt.Errorf("%s is not a partial sweep of this space (different header); remove it to start over", part)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	n := (fi.Size() - int64(len(hdr))) / rec
	end := int64(len(hdr)) + n*rec
	if end != fi.Size() {
		if err := f.Truncate(end); err != nil {
			f.Close()
			return nil, 0, fmt.Errorf("%s: drop torn record: %w", part, err)
		}
	}
	if _, err := f.Seek(end, io.SeekStart); err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, n, nil
}

// checkResume re-evaluates the last stored record and fails if the space no
// longer gives the same numbers (a changed simulator would otherwise mix
// two models in one table).
func checkResume(ds envs.DesignSpace, f *os.File, off, n, rec int64, radices []int) error {
	i := n - 1
	stored := make([]byte, rec)
	if _, err := f.ReadAt(stored, off+i*rec); err != nil {
		return fmt.Errorf("read record %d: %w", i, err)
	}
	cfg := make([]int, len(radices))
	Decode(i, radices, cfg)
	out := make([]float64, rec/8)
	if err := evaluatorFor(ds)(cfg, out); err != nil {
		return fmt.Errorf("re-evaluate configuration %d: %w", i, err)
	}
	for m, v := range out {
		s := math.Float64frombits(binary.LittleEndian.Uint64(stored[8*m:]))
		if math.Float64bits(s) != math.Float64bits(v) {
			return fmt.Errorf("configuration %d now gives metric %d = %v, the partial file holds %v: the space changed since the file was written; remove it to start over", i, m, v, s)
		}
	}
	return nil
}

func evaluatorFor(ds envs.DesignSpace) func(cfg []int, out []float64) error {
	if em, ok := ds.(EvaluatorMaker); ok {
		return em.NewEvaluator()
	}
	return ds.Evaluate
}

type chunk struct {
	k   int64 // chunk number
	n   int   // records in buf
	buf []byte
	err error
}

// evaluateInto evaluates configurations [start, total) on opt.Jobs workers
// and appends their records to f in index order, syncing after every chunk.
// It returns the number of records written.
func evaluateInto(ctx context.Context, ds envs.DesignSpace, f *os.File, start, total int64, radices []int, nm int, opt Options, progress func(done int64)) (int64, error) {
	jobs := opt.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	cs := int64(opt.ChunkSize)
	if cs <= 0 {
		cs = DefaultChunkSize
	}
	nChunks := (total - start + cs - 1) / cs
	jobs = int(min(int64(jobs), nChunks))
	rec := nm * 8

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Free buffers double as the bound on chunks in flight.
	free := make(chan []byte, 2*jobs+1)
	for range cap(free) {
		free <- make([]byte, int(cs)*rec)
	}
	results := make(chan chunk, cap(free))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			eval := evaluatorFor(ds)
			cfg := make([]int, len(radices))
			out := make([]float64, nm)
			for {
				var buf []byte
				select {
				case buf = <-free:
				case <-ctx.Done():
					return
				}
				k := next.Add(1) - 1
				if k >= nChunks {
					return
				}
				lo := start + k*cs
				hi := min(lo+cs, total)
				Decode(lo, radices, cfg)
				c := chunk{k: k, n: int(hi - lo), buf: buf}
				for j := 0; j < c.n; j++ {
					if j&63 == 0 && ctx.Err() != nil {
						return
					}
					if err := eval(cfg, out); err != nil {
						c.err = fmt.Errorf("configuration %d (%s): %w", lo+int64(j), describe(ds, cfg), err)
						break
					}
					for m, v := range out {
						binary.LittleEndian.PutUint64(buf[(j*nm+m)*8:], math.Float64bits(v))
					}
					increment(cfg, radices)
				}
				results <- c
				if c.err != nil {
					return
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	pending := map[int64]chunk{}
	var want int64
	var written int64
	var firstErr error
	fail := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
		cancel()
	}
	for c := range results {
		if c.err != nil {
			fail(c.err)
			continue
		}
		pending[c.k] = c
		for firstErr == nil {
			p, ok := pending[want]
			if !ok {
				break
			}
			delete(pending, want)
			if _, err := f.Write(p.buf[:p.n*rec]); err != nil {
				fail(fmt.Errorf("%s: write: %w", f.Name(), err))
				break
			}
			if err := f.Sync(); err != nil {
				fail(fmt.Errorf("%s: sync: %w", f.Name(), err))
				break
			}
			written += int64(p.n)
			want++
			free <- p.buf
			progress(start + written)
		}
	}
	if firstErr != nil {
		return written, firstErr
	}
	if err := ctx.Err(); err != nil && start+written < total {
		return written, fmt.Errorf("sweep interrupted after %d of %d configurations (rerun to resume): %w", start+written, total, context.Cause(ctx))
	}
	return written, nil
}

// describe renders cfg as Knob=Value pairs.
func describe(ds envs.DesignSpace, cfg []int) string {
	ks := ds.Knobs()
	parts := make([]string, len(cfg))
	for k, v := range cfg {
		if k < len(ks) && v >= 0 && v < len(ks[k].Values) {
			parts[k] = ks[k].Name + "=" + ks[k].Values[v]
		} else {
			parts[k] = fmt.Sprintf("knob%d=#%d", k, v)
		}
	}
	return strings.Join(parts, " ")
}

// syncDir makes a rename durable; errors are ignored because some file
// systems do not support syncing directories.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

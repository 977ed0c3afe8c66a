package exhaustive

import (
	"bufio"
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
	"github.com/commgraph/commgraph/envs/fsutil"
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

// Canonicalizer is implemented by spaces in which distinct configurations
// are known to evaluate to identical metrics, for example because the model
// ignores a knob in some setting (no refresh policy makes the refresh
// limits irrelevant). Canonical writes the representative of cfg's class
// into rep; the representative must map to itself and have an index no
// larger than cfg's. Run then evaluates each class once and copies its
// record, and checks a deterministic sample of the copies by evaluating
// them directly (Options.Verify), failing if any differs. The table is the
// same, byte for byte, as without the shortcut.
type Canonicalizer interface {
	Canonical(cfg, rep []int)
}

// DefaultVerify is the default Options.Verify.
const DefaultVerify = 61

// DefaultChunkSize is the number of configurations per chunk (the most work
// an interrupted sweep loses per worker).
const DefaultChunkSize = 1024

// Options tunes Run.
type Options struct {
	// Jobs is the number of workers; 0 = runtime.GOMAXPROCS(0) (no run has
	// 0 workers); negative is an error.
	Jobs int
	// ChunkSize is the number of configurations per chunk; 0 =
	// DefaultChunkSize; negative is an error. It changes only how often the
	// file is synced, never its contents.
	ChunkSize int
	// Progress, when set, is called from Run's goroutine after every chunk
	// is durably written (and once at the start).
	Progress func(Progress)
	// NoCanonical evaluates every configuration even when the space is a
	// Canonicalizer (a brute-force check of its equivalences).
	NoCanonical bool
	// Verify: with a Canonicalizer, every configuration whose index is a
	// multiple of Verify and that is not its own representative is also
	// evaluated directly and compared bit for bit. 0 = DefaultVerify (0 is
	// no period); negative disables the check.
	Verify int
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
	Evaluated int64 // configurations stored by this Run
	// Evaluations counts the evaluations this Run made (fewer than
	// Evaluated when a Canonicalizer lets records be copied; the resume and
	// Verify checks included).
	Evaluations int64
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
	if opt.Jobs < 0 || opt.ChunkSize < 0 {
		return Stats{}, fmt.Errorf("exhaustive: Jobs %d, ChunkSize %d: want >= 0 each (0 = the default)", opt.Jobs, opt.ChunkSize)
	}
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
	dataSize, err := h.dataSize(int64(len(hdr)))
	if err != nil {
		return st, fmt.Errorf("space %s: %w", ds.Name(), err)
	}

	// A complete table of the same space: nothing to do.
	if done, err := completeMatches(path, hdr, dataSize, rec); err != nil {
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
		st.Evaluations++
	}
	if opt.Progress != nil {
		opt.Progress(Progress{Done: start, Total: h.Configs, Resumed: start})
	}

	if start < h.Configs {
		fill := newTableFill(ds, f, int64(len(hdr)), start, h.Configs, radices, len(h.Metrics), opt)
		n, evals, err := fill.run(ctx, func(done int64) {
			if opt.Progress != nil {
				opt.Progress(Progress{Done: done, Total: h.Configs, Resumed: start})
			}
		})
		st.Evaluated = n
		st.Evaluations += evals
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
	if err := fsutil.Rename(part, path); err != nil {
		return st, fmt.Errorf("finish sweep: %w", err)
	}
	return st, nil
}

// completeMatches reports whether path holds a complete, intact table with
// header hdr; it fails when path holds something else or is damaged.
func completeMatches(path string, hdr []byte, dataSize, rec int64) (bool, error) {
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
		if string(got[:min(len(got), 8)]) == magicV1 {
			return false, fmt.Errorf("%s is a sweep table of format 1 (written by an older commgraph, without checksums); remove it and rerun to rewrite it", path)
		}
		return false, fmt.Errorf("%s exists and is not a sweep of this space; remove it or choose another output", path)
	}
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	if fi.Size() != int64(len(hdr))+dataSize {
		return false, fmt.Errorf("%s has the header of this sweep but %d bytes instead of %d; remove it", path, fi.Size(), int64(len(hdr))+dataSize)
	}
	if bad, err := firstBadRecord(f, int64(len(hdr)), dataSize/rec, rec); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	} else if bad >= 0 {
		return false, fmt.Errorf("%s: the record of configuration %d fails its checksum (the file is corrupt); remove it and rerun to recompute", path, bad)
	}
	return true, nil
}

// firstBadRecord returns the index of the first of n records (starting at
// off) whose checksum fails, or -1.
func firstBadRecord(f *os.File, off, n, rec int64) (int64, error) {
	r := bufio.NewReader(io.NewSectionReader(f, off, n*rec))
	buf := make([]byte, rec)
	for i := range n {
		if _, err := io.ReadFull(r, buf); err != nil {
			return -1, fmt.Errorf("read record %d: %w", i, err)
		}
		if !recordOK(buf, i) {
			return i, nil
		}
	}
	return -1, nil
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
		if err := lockFile(f); err != nil {
			f.Close()
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
		fsutil.SyncDir(filepath.Dir(part))
		return f, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	// Lock before looking at (and possibly truncating) the contents.
	if err := lockFile(f); err != nil {
		f.Close()
		return nil, 0, err
	}
	got := make([]byte, len(hdr))
	if _, err := io.ReadFull(f, got); err != nil || !bytes.Equal(got, hdr) {
		f.Close()
		if string(got[:min(len(got), 8)]) == magicV1 {
			return nil, 0, fmt.Errorf("%s is a partial sweep of format 1 (written by an older commgraph, without checksums); remove it to start over", part)
		}
		return nil, 0, fmt.Errorf("%s is not a partial sweep of this space (different header); remove it to start over", part)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	n := (fi.Size() - int64(len(hdr))) / rec
	// Records that fail their checksum at the end are a torn write (or
	// damage there): drop them, they are evaluated again. A failing record
	// followed by intact ones is damage in the middle: refuse.
	bad, err := firstBadRecord(f, int64(len(hdr)), n, rec)
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("%s: %w", part, err)
	}
	if bad >= 0 {
		for i := bad + 1; i < n; i++ {
			buf := make([]byte, rec)
			if _, err := f.ReadAt(buf, int64(len(hdr))+i*rec); err != nil {
				f.Close()
				return nil, 0, fmt.Errorf("%s: read record %d: %w", part, i, err)
			}
			if recordOK(buf, i) {
				f.Close()
				return nil, 0, fmt.Errorf("%s: the record of configuration %d fails its checksum but later records are intact (the file is corrupt); remove it to start over", part, bad)
			}
		}
		n = bad
	}
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
	decodeIndex(i, radices, cfg)
	out := make([]float64, (rec-crcSize)/8)
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

// tableFill appends the records of configurations [start, total) of a
// space to a table file (record 0 at byte off) on several workers, in
// index order, syncing after every chunk.
type tableFill struct {
	ds           envs.DesignSpace
	f            *os.File
	off          int64
	start, total int64
	radices      []int
	nm           int   // metrics per record
	rec          int   // bytes per record
	cs           int64 // configurations per chunk
	chunks       int64
	jobs         int
	canon        Canonicalizer // nil = simulate every configuration
	verify       int64
	// inFile counts the records in f so far; workers read the records of
	// far-back representatives from there.
	inFile atomic.Int64
}

func newTableFill(ds envs.DesignSpace, f *os.File, off, start, total int64, radices []int, nm int, opt Options) *tableFill {
	t := &tableFill{ds: ds, f: f, off: off, start: start, total: total, radices: radices, nm: nm,
		rec: nm*8 + crcSize, cs: int64(opt.ChunkSize), jobs: opt.Jobs, verify: int64(opt.Verify)}
	if t.jobs == 0 {
		t.jobs = runtime.GOMAXPROCS(0)
	}
	if t.cs == 0 {
		t.cs = DefaultChunkSize
	}
	t.chunks = (total - start + t.cs - 1) / t.cs
	t.jobs = int(min(int64(t.jobs), t.chunks))
	t.canon, _ = ds.(Canonicalizer)
	if opt.NoCanonical {
		t.canon = nil
	}
	if t.verify == 0 {
		t.verify = DefaultVerify
	}
	t.inFile.Store(start)
	return t
}

// run evaluates the configurations and appends their records. It returns
// the number of records written and of evaluations made.
func (t *tableFill) run(ctx context.Context, progress func(done int64)) (int64, int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Free buffers double as the bound on chunks in flight.
	free := make(chan []byte, 2*t.jobs+1)
	for range cap(free) {
		free <- make([]byte, int(t.cs)*t.rec)
	}
	results := make(chan chunk, cap(free))
	var next, evals atomic.Int64
	var wg sync.WaitGroup
	for range t.jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.work(ctx, free, results, &next, &evals)
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()
	written, err := t.writeInOrder(results, free, cancel, progress)
	if err != nil {
		return written, evals.Load(), err
	}
	if err := ctx.Err(); err != nil && t.start+written < t.total {
		return written, evals.Load(), fmt.Errorf("sweep interrupted after %d of %d configurations (rerun to resume): %w", t.start+written, t.total, context.Cause(ctx))
	}
	return written, evals.Load(), nil
}

// work is one worker goroutine: it takes the next chunk number, fills a
// free buffer with the chunk's records and hands it to results, until the
// chunks run out, ctx is cancelled or an evaluation fails.
func (t *tableFill) work(ctx context.Context, free chan []byte, results chan<- chunk, next, evals *atomic.Int64) {
	w := worker{ds: t.ds, eval: evaluatorFor(t.ds), canon: t.canon, verify: t.verify, radices: t.radices, nm: t.nm,
		cfg: make([]int, len(t.radices)), rep: make([]int, len(t.radices)), out: make([]float64, t.nm),
		chk: make([]float64, t.nm), outside: map[int64][]float64{}, stored: t.stored, raw: make([]byte, t.rec)}
	defer func() { evals.Add(w.evals) }()
	for {
		var buf []byte
		select {
		case buf = <-free:
		case <-ctx.Done():
			return
		}
		if ctx.Err() != nil { // select picks at random when both are ready
			return
		}
		k := next.Add(1) - 1
		if k >= t.chunks {
			return
		}
		lo := t.start + k*t.cs
		hi := min(lo+t.cs, t.total)
		c := chunk{k: k, n: int(hi - lo), buf: buf}
		if !w.run(ctx, lo, hi, buf) {
			return
		}
		c.err = w.err
		results <- c
		if c.err != nil {
			return
		}
	}
}

// stored reads record i into out when it is already in the file (raw is
// scratch of one record); false when it is not, or does not check.
func (t *tableFill) stored(i int64, out []float64, raw []byte) bool {
	if i >= t.inFile.Load() {
		return false
	}
	if _, err := t.f.ReadAt(raw, t.off+i*int64(t.rec)); err != nil || !recordOK(raw, i) {
		return false
	}
	getRecord(raw, out)
	return true
}

// writeInOrder appends the chunks arriving on results to the file in chunk
// order (holding early arrivals), syncing after each, and returns their
// buffers to free. On the first failure (an evaluation or a write) it
// cancels the workers, drains results and returns the error.
func (t *tableFill) writeInOrder(results <-chan chunk, free chan<- []byte, cancel func(), progress func(done int64)) (int64, error) {
	pending := map[int64]chunk{}
	var want, written int64
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
			if _, err := t.f.Write(p.buf[:p.n*t.rec]); err != nil {
				fail(fmt.Errorf("%s: write: %w", t.f.Name(), err))
				break
			}
			if err := t.f.Sync(); err != nil {
				fail(fmt.Errorf("%s: sync: %w", t.f.Name(), err))
				break
			}
			written += int64(p.n)
			t.inFile.Store(t.start + written)
			want++
			free <- p.buf
			progress(t.start + written)
		}
	}
	return written, firstErr
}

// worker is one sweep goroutine's state.
type worker struct {
	ds       envs.DesignSpace
	eval     func(cfg []int, out []float64) error
	canon    Canonicalizer
	verify   int64
	radices  []int
	nm       int
	cfg, rep []int
	out, chk []float64
	// outside caches records of representatives before the current chunk;
	// stored reads one from the file when it is already written there.
	outside map[int64][]float64
	stored  func(i int64, out []float64, raw []byte) bool
	raw     []byte
	evals   int64
	err     error
}

// run fills buf with the records of configurations [lo, hi). It returns
// false when ctx was cancelled (buf is then abandoned) and sets w.err on an
// evaluation failure.
func (w *worker) run(ctx context.Context, lo, hi int64, buf []byte) bool {
	clear(w.outside)
	decodeIndex(lo, w.radices, w.cfg)
	nm := w.nm
	rs := nm*8 + crcSize
	for i := lo; i < hi; i++ {
		if (i-lo)&63 == 0 && ctx.Err() != nil {
			return false
		}
		j := int(i - lo)
		rec := buf[j*rs : (j+1)*rs]
		ri := i
		if w.canon != nil {
			w.canon.Canonical(w.cfg, w.rep)
			ri, _ = Encode(w.rep, w.radices)
		}
		switch {
		case ri == i:
			if !w.evaluate(i, w.cfg, w.out) {
				return true
			}
			putRecord(rec, i, w.out)
		case ri >= lo && ri < i:
			src := buf[int(ri-lo)*rs:]
			copy(rec[:nm*8], src[:nm*8])
			binary.LittleEndian.PutUint32(rec[nm*8:], recordCRC(i, rec[:nm*8]))
		case ri < lo:
			v, ok := w.outside[ri]
			if !ok {
				v = make([]float64, nm)
				if !w.stored(ri, v, w.raw) && !w.evaluate(ri, w.rep, v) {
					return true
				}
				w.outside[ri] = v
			}
			putRecord(rec, i, v)
		default:
			w.err = fmt.Errorf("Canonical maps configuration %d (%s) to %d, a later one", i, describe(w.ds, w.cfg), ri)
			return true
		}
		if ri != i && w.verify > 0 && i%w.verify == 0 {
			if !w.evaluate(i, w.cfg, w.chk) {
				return true
			}
			for m, v := range w.chk {
				if math.Float64bits(v) != binary.LittleEndian.Uint64(rec[8*m:]) {
					w.err = fmt.Errorf("configuration %d (%s) gives metric %d = %v but its representative %d (%s) gives %v: the space's Canonical equivalence does not hold",
						i, describe(w.ds, w.cfg), m, v, ri, describe(w.ds, w.rep), math.Float64frombits(binary.LittleEndian.Uint64(rec[8*m:])))
					return true
				}
			}
		}
		increment(w.cfg, w.radices)
	}
	return true
}

func (w *worker) evaluate(i int64, cfg []int, out []float64) bool {
	w.evals++
	if err := w.eval(cfg, out); err != nil {
		w.err = fmt.Errorf("configuration %d (%s): %w", i, describe(w.ds, cfg), err)
		return false
	}
	return true
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

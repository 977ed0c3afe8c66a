package exhaustive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/commgraph/commgraph/envs"
)

// toySpace is a small deterministic design space. Its metrics are smooth
// functions of the value indices with non-representable float64 values, so a
// mixed-up record order or a dropped record changes the file bytes.
type toySpace struct {
	name    string
	radices []int
	delay   time.Duration
	// failAt makes evaluation of that configuration index fail (-1: never).
	failAt int64
	// evaluators counts NewEvaluator calls; calls counts evaluations.
	evaluators atomic.Int64
	calls      atomic.Int64
}

// toyRec is the size of one record of the toy space on disk: three metrics
// and a checksum.
const toyRec = 3*8 + 4

func newToy(radices ...int) *toySpace {
	return &toySpace{name: "toy", radices: radices, failAt: -1}
}

func (s *toySpace) Name() string { return s.name }
func (s *toySpace) Knobs() []envs.Knob {
	ks := make([]envs.Knob, len(s.radices))
	for k, r := range s.radices {
		ks[k].Name = fmt.Sprintf("k%d", k)
		for v := range r {
			ks[k].Values = append(ks[k].Values, strconv.Itoa(v))
		}
	}
	return ks
}
func (s *toySpace) MetricNames() []string { return []string{"time_ns", "energy_pJ", "power_mW"} }

func (s *toySpace) Evaluate(cfg []int, out []float64) error {
	s.calls.Add(1)
	if s.delay > 0 {
		time.Sleep(s.delay)
	}
	idx, _ := Encode(cfg, s.radices)
	if idx == s.failAt {
		return errors.New("injected failure")
	}
	t, e := 1.0, 3.0
	for k, v := range cfg {
		t += math.Sqrt(float64(v+k+1)) / 7
		e += float64(v*v+1) / float64(k+3)
	}
	t *= 1 + 0.1*float64(cfg[0]*cfg[len(cfg)-1])
	out[0], out[1], out[2] = t, e, e/t
	return nil
}

// statefulToy evaluates through per-worker evaluators whose state must not
// be shared (the race detector flags sharing).
type statefulToy struct{ *toySpace }

func (s statefulToy) NewEvaluator() func(cfg []int, out []float64) error {
	s.evaluators.Add(1)
	scratch := make([]float64, 3) // per-evaluator state
	return func(cfg []int, out []float64) error {
		if err := s.toySpace.Evaluate(cfg, scratch); err != nil {
			return err
		}
		copy(out, scratch)
		return nil
	}
}

func mustRun(t *testing.T, ds envs.DesignSpace, path string, opt Options) Stats {
	t.Helper()
	st, err := Run(context.Background(), ds, path, opt)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestRunWritesAllConfigurationsInIndexOrder(t *testing.T) {
	ds := newToy(3, 2, 4, 5)
	path := filepath.Join(t.TempDir(), "toy.sweep")
	var last Progress
	calls := 0
	st := mustRun(t, ds, path, Options{Jobs: 3, ChunkSize: 7, Progress: func(p Progress) { last = p; calls++ }})
	if st.Total != 120 || st.Evaluated != 120 || st.Resumed != 0 {
		t.Fatalf("stats %+v, want 120 evaluated", st)
	}
	if last.Done != 120 || last.Total != 120 || calls < 2 {
		t.Fatalf("last progress %+v after %d calls", last, calls)
	}
	if _, err := os.Stat(PartialPath(path)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("partial file left behind: %v", err)
	}
	tab, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Len() != 120 || tab.Space != "toy" || len(tab.Metrics) != 3 {
		t.Fatalf("table %+v", tab.Header)
	}
	want := make([]float64, 3)
	cfg := make([]int, 4)
	for i := range 120 {
		decodeIndex(int64(i), ds.radices, cfg)
		ds.Evaluate(cfg, want)
		got := tab.Row(i)
		for m := range want {
			if math.Float64bits(got[m]) != math.Float64bits(want[m]) {
				t.Fatalf("config %d metric %d: %v, want %v", i, m, got[m], want[m])
			}
		}
		back, err := tab.Index(tab.Config(i, nil))
		if err != nil || back != i {
			t.Fatalf("index round trip %d -> %v -> %d (%v)", i, tab.Config(i, nil), back, err)
		}
	}
	// Last knob fastest.
	if c := tab.Config(1, nil); c[3] != 1 || c[0] != 0 {
		t.Fatalf("config 1 = %v, want last knob fastest", c)
	}
}

func TestRunSameBytesForAnyJobsAndChunks(t *testing.T) {
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref")
	mustRun(t, newToy(4, 3, 5, 2), ref, Options{Jobs: 1, ChunkSize: 1000})
	want, _ := os.ReadFile(ref)
	for _, o := range []Options{{Jobs: 2, ChunkSize: 1}, {Jobs: 8, ChunkSize: 5}, {Jobs: 3, ChunkSize: 64}} {
		p := filepath.Join(dir, fmt.Sprintf("j%d-c%d", o.Jobs, o.ChunkSize))
		mustRun(t, statefulToy{newToy(4, 3, 5, 2)}, p, o)
		got, _ := os.ReadFile(p)
		if !bytes.Equal(got, want) {
			t.Fatalf("jobs %d chunk %d: file differs from the single-worker run", o.Jobs, o.ChunkSize)
		}
	}
}

// TestRunRefusesNegativeOptions: a negative Jobs or ChunkSize is an error
// before any file is written (0 is the default; no negative value means
// anything).
func TestRunRefusesNegativeOptions(t *testing.T) {
	dir := t.TempDir()
	for _, o := range []Options{{Jobs: -1}, {ChunkSize: -5}} {
		p := filepath.Join(dir, "neg")
		if _, err := Run(context.Background(), newToy(2, 2), p, o); err == nil || !strings.Contains(err.Error(), "want >= 0") {
			t.Errorf("%+v: %v", o, err)
		}
		if _, err := os.Stat(p + ".partial"); err == nil {
			t.Errorf("%+v: a partial file was written", o)
		}
	}
}

func TestRunUsesOneEvaluatorPerWorker(t *testing.T) {
	ds := statefulToy{newToy(5, 4, 3)}
	mustRun(t, ds, filepath.Join(t.TempDir(), "s"), Options{Jobs: 4, ChunkSize: 3})
	if n := ds.evaluators.Load(); n != 4 {
		t.Fatalf("%d evaluators made for 4 workers", n)
	}
}

// TestResumeAfterCancelEqualsUninterrupted interrupts a sweep midway
// (context cancelled from the progress callback), tears the last record,
// and checks that the rerun evaluates only what is missing and produces
// the uninterrupted file byte for byte.
func TestResumeAfterCancelEqualsUninterrupted(t *testing.T) {
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref")
	mustRun(t, newToy(4, 3, 5, 6), ref, Options{Jobs: 2})
	want, _ := os.ReadFile(ref)

	ds := newToy(4, 3, 5, 6)
	path := filepath.Join(dir, "int")
	ctx, cancel := context.WithCancel(context.Background())
	_, err := Run(ctx, ds, path, Options{Jobs: 2, ChunkSize: 10, Progress: func(p Progress) {
		if p.Done >= 150 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: err %v, want context.Canceled", err)
	}
	part := PartialPath(path)
	fi, err := os.Stat(part)
	if err != nil {
		t.Fatal(err)
	}
	hdrLen := int64(len(want)) - 360*toyRec
	stored := (fi.Size() - hdrLen) / toyRec
	if stored < 150 || stored >= 360 {
		t.Fatalf("partial holds %d records, want >= 150 and < 360", stored)
	}
	// Simulate a torn write: half a record of garbage at the end.
	f, _ := os.OpenFile(part, os.O_WRONLY|os.O_APPEND, 0)
	f.Write(bytes.Repeat([]byte{0xAB}, 12))
	f.Close()

	before := ds.calls.Load()
	st := mustRun(t, ds, path, Options{Jobs: 3, ChunkSize: 7})
	if st.Resumed != stored || st.Evaluated != 360-stored {
		t.Fatalf("resume stats %+v, want resumed %d evaluated %d", st, stored, 360-stored)
	}
	// One extra evaluation: the resume check of the last stored record.
	if got := ds.calls.Load() - before; got != 360-stored+1 {
		t.Fatalf("resume evaluated %d configurations, want %d", got, 360-stored+1)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, want) {
		t.Fatal("resumed file differs from the uninterrupted run")
	}
	// A third run finds the complete file and does nothing.
	before = ds.calls.Load()
	st = mustRun(t, ds, path, Options{})
	if st.Resumed != 360 || st.Evaluated != 0 || ds.calls.Load() != before {
		t.Fatalf("rerun of a complete sweep: %+v, %d calls", st, ds.calls.Load()-before)
	}
}

func TestRunFailureKeepsFinishedChunks(t *testing.T) {
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref")
	mustRun(t, newToy(6, 5, 4), ref, Options{})
	want, _ := os.ReadFile(ref)

	ds := newToy(6, 5, 4)
	ds.failAt = 77
	path := filepath.Join(dir, "fail")
	_, err := Run(context.Background(), ds, path, Options{Jobs: 2, ChunkSize: 4})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("configuration 77 (k0=")) {
		t.Fatalf("err = %v, want it to name configuration 77 and its knob values", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a failed sweep must not leave a final file")
	}
	fi, _ := os.Stat(PartialPath(path))
	if n := (fi.Size() - int64(len(want)-120*toyRec)) / toyRec; n > 76 {
		t.Fatalf("partial holds %d records, more than the 76 before the failure", n)
	}
	ds.failAt = -1
	mustRun(t, ds, path, Options{Jobs: 2, ChunkSize: 4})
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, want) {
		t.Fatal("file after failure and resume differs from the uninterrupted run")
	}
}

// changedToy gives different numbers than toySpace under the same name.
type changedToy struct{ *toySpace }

func (s changedToy) Evaluate(cfg []int, out []float64) error {
	s.toySpace.Evaluate(cfg, out)
	out[0] *= 1.0000001
	return nil
}

func TestResumeRefusesChangedSpace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s")
	ctx, cancel := context.WithCancel(context.Background())
	Run(ctx, newToy(5, 5, 5), path, Options{Jobs: 1, ChunkSize: 10, Progress: func(p Progress) {
		if p.Done >= 20 {
			cancel()
		}
	}})
	_, err := Run(context.Background(), changedToy{newToy(5, 5, 5)}, path, Options{})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("space changed")) {
		t.Fatalf("err = %v, want a 'space changed' refusal", err)
	}
	// A different space (other knobs) is refused by its header.
	_, err = Run(context.Background(), newToy(5, 5, 4), path, Options{})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("different header")) {
		t.Fatalf("err = %v, want a header mismatch", err)
	}
}

func TestReadRejectsIncompleteAndForeignFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s")
	mustRun(t, newToy(3, 3), path, Options{})
	data, _ := os.ReadFile(path)
	short := filepath.Join(dir, "short")
	os.WriteFile(short, data[:len(data)-8], 0o644)
	if _, err := Read(short); err == nil || !bytes.Contains([]byte(err.Error()), []byte("incomplete")) {
		t.Fatalf("truncated table: err %v, want one naming the file", err)
	}
	junk := filepath.Join(dir, "junk")
	os.WriteFile(junk, []byte("time_ns,energy_pJ\n1,2\n"), 0o644)
	if _, err := Read(junk); err == nil || !bytes.Contains([]byte(err.Error()), []byte("not a sweep table")) {
		t.Fatalf("foreign file: err %v", err)
	}
	// Run refuses to overwrite a file that is not this sweep.
	if _, err := Run(context.Background(), newToy(3, 3), junk, Options{}); err == nil {
		t.Fatal("Run overwrote a foreign file")
	}
}

// TestKilledProcessResumes kills a real sweep process with SIGKILL midway
// and checks that the rerun completes the file byte-identically to an
// uninterrupted run.
func TestKilledProcessResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref")
	mustRun(t, newToy(8, 8, 8, 4), ref, Options{})
	want, _ := os.ReadFile(ref)
	hdrLen := int64(len(want)) - 2048*toyRec

	path := filepath.Join(dir, "killed")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperSlowSweep$")
	cmd.Env = append(os.Environ(), "SWEEP_HELPER_OUT="+path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		fi, err := os.Stat(PartialPath(path))
		if err == nil && fi.Size() >= hdrLen+500*toyRec {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("helper made no progress")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := os.Stat(path); err == nil {
		t.Skip("helper finished before it was killed; machine too fast for this check")
	}
	st := mustRun(t, newToy(8, 8, 8, 4), path, Options{})
	if st.Resumed < 500 || st.Resumed >= 2048 {
		t.Fatalf("resumed %d records, want between 500 and 2047", st.Resumed)
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, want) {
		t.Fatal("file resumed after SIGKILL differs from the uninterrupted run")
	}
}

// TestHelperSlowSweep is the child process of TestKilledProcessResumes.
func TestHelperSlowSweep(t *testing.T) {
	out := os.Getenv("SWEEP_HELPER_OUT")
	if out == "" {
		t.Skip("helper process only")
	}
	ds := newToy(8, 8, 8, 4)
	ds.delay = 2 * time.Millisecond
	Run(context.Background(), ds, out, Options{Jobs: 2, ChunkSize: 50})
}

func TestRestrictMatchesFullTable(t *testing.T) {
	dir := t.TempDir()
	full := newToy(4, 3, 5)
	mustRun(t, full, filepath.Join(dir, "full"), Options{})
	ft, _ := Read(filepath.Join(dir, "full"))

	sub, err := Restrict(statefulToy{newToy(4, 3, 5)}, map[string]string{"K1": "2"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := sub.(EvaluatorMaker); !ok {
		t.Fatal("restriction lost the per-worker evaluators")
	}
	if sub.Name() != "toy{k1=2}" || envs.Size(sub) != 20 {
		t.Fatalf("sub-space %q of %d configurations", sub.Name(), envs.Size(sub))
	}
	mustRun(t, sub, filepath.Join(dir, "sub"), Options{Jobs: 2, ChunkSize: 3})
	st, err := Read(filepath.Join(dir, "sub"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range st.Len() {
		c := st.Config(i, nil)
		c[1] = 2
		j, _ := ft.Index(c)
		for m, v := range st.Row(i) {
			if v != ft.Row(j)[m] {
				t.Fatalf("sub config %d = full %d: metric %d %v != %v", i, j, m, v, ft.Row(j)[m])
			}
		}
	}
	if _, err := Restrict(full, map[string]string{"k9": "0"}); err == nil || !strings.Contains(err.Error(), "allowed: k0, k1, k2") {
		t.Fatalf("unknown knob: %v", err)
	}
	if _, err := Restrict(full, map[string]string{"k0": "7"}); err == nil || !strings.Contains(err.Error(), "allowed: 0, 1, 2, 3") {
		t.Fatalf("unknown value: %v", err)
	}
}

// ignoringToy ignores knob 2 whenever knob 0 is 0 and says so through
// Canonical; with lie set, it also claims knob 1 is ignored, which is false.
type ignoringToy struct {
	*toySpace
	lie bool
}

func (s ignoringToy) Evaluate(cfg []int, out []float64) error {
	c := append([]int(nil), cfg...)
	if c[0] == 0 {
		c[2] = 0
	}
	return s.toySpace.Evaluate(c, out)
}

func (s ignoringToy) Canonical(cfg, rep []int) {
	copy(rep, cfg)
	if cfg[0] == 0 {
		rep[2] = 0
		if s.lie {
			rep[1] = 0
		}
	}
}

func TestCanonicalSavesEvaluationsAndKeepsBytes(t *testing.T) {
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref")
	bst := mustRun(t, ignoringToy{toySpace: newToy(3, 4, 50, 2)}, ref, Options{NoCanonical: true})
	want, _ := os.ReadFile(ref)
	if bst.Evaluations != 1200 {
		t.Fatalf("brute force made %d evaluations, want 1200", bst.Evaluations)
	}
	for _, o := range []Options{{Jobs: 1}, {Jobs: 3, ChunkSize: 7}, {Jobs: 2, ChunkSize: 64, Verify: -1}} {
		p := filepath.Join(dir, fmt.Sprintf("c%d-%d-%d", o.Jobs, o.ChunkSize, o.Verify))
		st := mustRun(t, ignoringToy{toySpace: newToy(3, 4, 50, 2)}, p, o)
		got, _ := os.ReadFile(p)
		if !bytes.Equal(got, want) {
			t.Fatalf("%+v: canonical sweep differs from brute force", o)
		}
		// Classes: 2*4*50*2 = 800 with knob 0 > 0, plus 4*2 = 8 with knob 0 = 0.
		limit := int64(900)
		if o.ChunkSize == 7 {
			limit = 1000 // tiny chunks re-evaluate representatives at every boundary
		}
		if st.Evaluations >= limit || st.Evaluations < 808 {
			t.Fatalf("%+v: %d evaluations, want about 808 (+ verification and chunk-boundary repeats)", o, st.Evaluations)
		}
	}
	_, err := Run(context.Background(), ignoringToy{toySpace: newToy(3, 4, 50, 2), lie: true}, filepath.Join(dir, "lie"), Options{Verify: 1})
	if err == nil || !strings.Contains(err.Error(), "equivalence does not hold") {
		t.Fatalf("false equivalence not caught: %v", err)
	}
}

// farToy ignores knob 0 (the slowest) whenever knob 1 is 0, so every
// representative lies a whole knob-0 stride (400 configurations) back,
// beyond the chunks in flight: its record must come from the file.
type farToy struct{ *toySpace }

func (s farToy) Evaluate(cfg []int, out []float64) error {
	c := append([]int(nil), cfg...)
	if c[1] == 0 {
		c[0] = 0
	}
	return s.toySpace.Evaluate(c, out)
}

func (s farToy) Canonical(cfg, rep []int) {
	copy(rep, cfg)
	if cfg[1] == 0 {
		rep[0] = 0
	}
}

func TestCanonicalFarRepresentativesReadFromFile(t *testing.T) {
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref")
	mustRun(t, farToy{newToy(3, 4, 50, 2)}, ref, Options{NoCanonical: true})
	want, _ := os.ReadFile(ref)
	p := filepath.Join(dir, "far")
	st := mustRun(t, farToy{newToy(3, 4, 50, 2)}, p, Options{Jobs: 2, ChunkSize: 64})
	got, _ := os.ReadFile(p)
	if !bytes.Equal(got, want) {
		t.Fatal("far-representative sweep differs from brute force")
	}
	// 1000 classes (900 with knob 1 > 0, 100 with knob 1 = 0) plus a few
	// verification evaluations; re-simulating far representatives would
	// make it 1200.
	if st.Evaluations < 1000 || st.Evaluations > 1010 {
		t.Fatalf("%d evaluations, want about 1000", st.Evaluations)
	}
}

// TestConcurrentSweepOfSameOutputRefused: a second sweep of an output that
// is being written fails instead of interleaving records.
func TestConcurrentSweepOfSameOutputRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s")
	started := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error)
	go func() {
		first := true
		_, err := Run(context.Background(), newToy(6, 6, 6), path, Options{Jobs: 1, ChunkSize: 20, Progress: func(p Progress) {
			if p.Done > 0 && first {
				first = false
				close(started)
				<-release
			}
		}})
		done <- err
	}()
	<-started
	_, err := Run(context.Background(), newToy(6, 6, 6), path, Options{})
	close(release)
	if err == nil || !strings.Contains(err.Error(), "another sweep") {
		t.Fatalf("second sweep: %v, want a refusal", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ref := filepath.Join(t.TempDir(), "ref")
	mustRun(t, newToy(6, 6, 6), ref, Options{})
	a, _ := os.ReadFile(ref)
	b, _ := os.ReadFile(path)
	if !bytes.Equal(a, b) {
		t.Fatal("the first sweep's file was disturbed")
	}
}

// TestRestrictKeepsEquivalences: a sub-space (dram sweep --fix) simulates
// each class of identically evaluated configurations once, with the same
// table as brute force, whether the fixed knob is one that the space
// ignores or not.
func TestRestrictKeepsEquivalences(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		fix   map[string]string
		evals int64 // classes in the sub-space
	}{
		// k1 fixed (3 x 1 x 50 x 2 = 300 designs): knob 0 > 0 gives
		// 2*50*2 = 200 classes, knob 0 = 0 ignores knob 2: 2 more.
		{map[string]string{"k1": "2"}, 202},
		// k2 fixed (3 x 4 x 1 x 2 = 24): the ignored knob is fixed, so
		// every design is its own class.
		{map[string]string{"k2": "5"}, 24},
		// k0 fixed at 0 (1 x 4 x 50 x 2 = 400): knob 2 is ignored
		// everywhere, 4 x 2 = 8 classes.
		{map[string]string{"k0": "0"}, 8},
	} {
		name := fmt.Sprint(tc.fix)
		sub, err := Restrict(ignoringToy{toySpace: newToy(3, 4, 50, 2)}, tc.fix)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := sub.(Canonicalizer); !ok {
			t.Fatalf("%s: the restriction lost the space's equivalences", name)
		}
		ref := filepath.Join(dir, "ref"+fmt.Sprint(tc.evals))
		mustRun(t, sub, ref, Options{NoCanonical: true})
		want, _ := os.ReadFile(ref)
		p := filepath.Join(dir, "canon"+fmt.Sprint(tc.evals))
		st := mustRun(t, sub, p, Options{Jobs: 1, ChunkSize: 4096, Verify: -1})
		got, _ := os.ReadFile(p)
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: canonical sweep of the sub-space differs from brute force", name)
		}
		if st.Evaluations != tc.evals {
			t.Errorf("%s: %d simulations, want one per class (%d)", name, st.Evaluations, tc.evals)
		}
	}
	// The per-worker evaluators are kept alongside.
	if sub, err := Restrict(statefulToy{newToy(4, 3, 5)}, map[string]string{"k1": "2"}); err != nil {
		t.Fatal(err)
	} else if _, ok := sub.(EvaluatorMaker); !ok {
		t.Fatal("restriction lost the per-worker evaluators")
	}
}

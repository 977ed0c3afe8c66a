package exhaustive

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadRejectsDamage: every kind of damage to a complete table is an
// error naming the file and what to do, from Read and from a rerun of the
// sweep (which must not take a damaged table for a finished one).
func TestReadRejectsDamage(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.sweep")
	mustRun(t, newToy(4, 3, 5), good, Options{})
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	hdrLen := len(data) - 60*toyRec
	rec := func(i int) []byte { return data[hdrLen+i*toyRec : hdrLen+(i+1)*toyRec] }
	nan := bytes.Clone(data)
	binary.LittleEndian.PutUint64(nan[hdrLen+17*toyRec+8:], math.Float64bits(math.NaN()))
	flip := bytes.Clone(data)
	flip[hdrLen+40*toyRec+3] ^= 0x04
	swapped := bytes.Clone(data)
	copy(swapped[hdrLen+5*toyRec:], rec(6))
	copy(swapped[hdrLen+6*toyRec:], rec(5))
	header := bytes.Clone(data)
	i := bytes.Index(header, []byte(`"time_ns"`))
	header[i+1] = 'T' // still valid JSON, another metric name
	v1 := bytes.Clone(data)
	copy(v1, "CGSWEEP1")
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"nan", nan, "configuration 17 fails its checksum"},
		{"flip", flip, "configuration 40 fails its checksum"},
		{"swapped", swapped, "configuration 5 fails its checksum"},
		{"header", header, "header checksum mismatch"},
		{"truncated", data[:len(data)-toyRec-3], "incomplete or corrupt"},
		{"truncated-header", data[:20], "truncated sweep header"},
		{"format1", v1, "format 1"},
	} {
		path := filepath.Join(dir, tc.name+".sweep")
		if err := os.WriteFile(path, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Read(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "remove it") {
			t.Errorf("%s: Read error %v: want the file, %q and what to do", tc.name, err, tc.want)
		}
		if _, err := Run(context.Background(), newToy(4, 3, 5), path, Options{}); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: a rerun of the sweep accepted the damaged table: %v", tc.name, err)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, tc.data) {
			t.Errorf("%s: the rerun changed the damaged file", tc.name)
		}
	}
}

// TestResumeTornTailAndDamage: a partial file whose last records fail their
// checksums (a torn write) resumes to the same bytes as an uninterrupted
// sweep; one whose failing record is followed by intact ones is refused.
func TestResumeTornTailAndDamage(t *testing.T) {
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref")
	mustRun(t, newToy(6, 5, 4), ref, Options{})
	want, _ := os.ReadFile(ref)
	hdrLen := len(want) - 120*toyRec

	// 50 intact records, then two records of garbage and half a record.
	path := filepath.Join(dir, "torn")
	part := append(bytes.Clone(want[:hdrLen+50*toyRec]), bytes.Repeat([]byte{0xAB}, 2*toyRec+toyRec/2)...)
	os.WriteFile(PartialPath(path), part, 0o644)
	ds := newToy(6, 5, 4)
	st := mustRun(t, ds, path, Options{Jobs: 2, ChunkSize: 9})
	if st.Resumed != 50 {
		t.Errorf("resumed %d records, want the 50 intact ones", st.Resumed)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, want) {
		t.Error("resume after a torn tail differs from the uninterrupted sweep")
	}

	// Record 20 changed, records 21..49 intact: damage, not a tear.
	path = filepath.Join(dir, "damaged")
	part = bytes.Clone(want[:hdrLen+50*toyRec])
	part[hdrLen+20*toyRec] ^= 0x01
	os.WriteFile(PartialPath(path), part, 0o644)
	_, err := Run(context.Background(), newToy(6, 5, 4), path, Options{})
	if err == nil || !strings.Contains(err.Error(), PartialPath(path)) || !strings.Contains(err.Error(), "configuration 20 fails its checksum but later records are intact") {
		t.Fatalf("damaged partial: %v", err)
	}
	if got, _ := os.ReadFile(PartialPath(path)); !bytes.Equal(got, part) {
		t.Error("the refused resume changed the partial file")
	}
}

// FuzzReadTable: the table reader never panics and never accepts bytes
// that are not exactly the encoding of what it returns: re-encoding an
// accepted table gives the input back, byte for byte.
func FuzzReadTable(f *testing.F) {
	dir := f.TempDir()
	for i, radices := range [][]int{{2, 3}, {1}, {3, 1, 2}} {
		path := filepath.Join(dir, string(rune('a'+i)))
		if _, err := Run(context.Background(), newToy(radices...), path, Options{}); err != nil {
			f.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:len(data)-1])
	}
	f.Add([]byte("CGSWEEP1"))
	f.Add([]byte("CGSWEEP2\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := readTable(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		hdr, err := encodeHeader(tab.Header)
		if err != nil {
			t.Fatal(err)
		}
		nm := len(tab.Metrics)
		out := bytes.Clone(hdr)
		rec := make([]byte, tab.RecordSize())
		for i := range tab.Len() {
			putRecord(rec, int64(i), tab.Data[i*nm:(i+1)*nm])
			out = append(out, rec...)
		}
		if !bytes.Equal(out, data) {
			t.Fatalf("accepted %d bytes that re-encode to %d different ones", len(data), len(out))
		}
	})
}

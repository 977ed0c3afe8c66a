package exhaustive

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"

	"github.com/commgraph/commgraph/envs"
)

// Magic opens every sweep table file of the current format.
const Magic = "CGSWEEP2"

// FormatVersion is the version recorded in the header (and in Magic).
const FormatVersion = 2

// magicV1 opened the tables of format 1, which had no checksums.
const magicV1 = "CGSWEEP1"

// crcTable is CRC-32C (Castagnoli, Brauer & Herrmann 1993, "Optimization
// of cyclic redundancy-check codes with 24 and 32 parity bits"), which
// detects every error of up to 32 consecutive bits and is computed in
// hardware on amd64 and arm64.
var crcTable = crc32.MakeTable(crc32.Castagnoli)

// crcSize is the size of every checksum in the file.
const crcSize = 4

// advice ends every error about a damaged table file.
const advice = "remove it and rerun the sweep that wrote it"

const (
	orderDoc = "mixed-radix, last knob fastest"
	dtypeDoc = "float64le"
	// maxHeader bounds the JSON header a reader accepts.
	maxHeader = 1 << 20
)

// KnobInfo is one knob as recorded in a table header.
type KnobInfo struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

// Header describes the contents of a sweep table.
type Header struct {
	Format  int        `json:"format"`
	Space   string     `json:"space"`
	Knobs   []KnobInfo `json:"knobs"`
	Metrics []string   `json:"metrics"`
	Configs int64      `json:"configs"`
	Order   string     `json:"order"`
	DType   string     `json:"dtype"`
}

// HeaderOf returns the header a sweep of ds writes.
func HeaderOf(ds envs.DesignSpace) Header {
	ks := ds.Knobs()
	h := Header{
		Format:  FormatVersion,
		Space:   ds.Name(),
		Knobs:   make([]KnobInfo, len(ks)),
		Metrics: append([]string(nil), ds.MetricNames()...),
		Configs: 1,
		Order:   orderDoc,
		DType:   dtypeDoc,
	}
	for i, k := range ks {
		h.Knobs[i] = KnobInfo{Name: k.Name, Values: append([]string(nil), k.Values...)}
		h.Configs *= int64(len(k.Values))
	}
	return h
}

// Radices returns the value count of every knob.
func (h *Header) Radices() []int {
	r := make([]int, len(h.Knobs))
	for i, k := range h.Knobs {
		r[i] = len(k.Values)
	}
	return r
}

// KnobNames returns the knob names in order.
func (h *Header) KnobNames() []string {
	r := make([]string, len(h.Knobs))
	for i, k := range h.Knobs {
		r[i] = k.Name
	}
	return r
}

// RecordSize is the number of bytes of one configuration's record: its
// metrics and their checksum.
func (h *Header) RecordSize() int64 { return int64(len(h.Metrics))*8 + crcSize }

// dataSize is the size of all records, or an error when it does not fit in
// a file offset.
func (h *Header) dataSize(hdrLen int64) (int64, error) {
	if h.Configs > (math.MaxInt64-hdrLen)/h.RecordSize() {
		return 0, fmt.Errorf("%d configurations of %d bytes do not fit in a file", h.Configs, h.RecordSize())
	}
	return h.Configs * h.RecordSize(), nil
}

// putRecord encodes the metrics v of configuration i into rec
// (RecordSize bytes): the values, then CRC-32C of i (uint64 LE) and the
// values, so a value changed, a record moved or a record torn is caught.
func putRecord(rec []byte, i int64, v []float64) {
	for m, x := range v {
		binary.LittleEndian.PutUint64(rec[8*m:], math.Float64bits(x))
	}
	n := 8 * len(v)
	binary.LittleEndian.PutUint32(rec[n:], recordCRC(i, rec[:n]))
}

// recordCRC is the checksum of configuration i's value bytes.
func recordCRC(i int64, vals []byte) uint32 {
	var ib [8]byte
	binary.LittleEndian.PutUint64(ib[:], uint64(i))
	return crc32.Update(crc32.Update(0, crcTable, ib[:]), crcTable, vals)
}

// recordOK reports whether rec holds a record of configuration i with a
// matching checksum.
func recordOK(rec []byte, i int64) bool {
	n := len(rec) - crcSize
	return binary.LittleEndian.Uint32(rec[n:]) == recordCRC(i, rec[:n])
}

// getRecord decodes the values of a record into out.
func getRecord(rec []byte, out []float64) {
	for m := range out {
		out[m] = math.Float64frombits(binary.LittleEndian.Uint64(rec[8*m:]))
	}
}

func (h *Header) validate() error {
	if h.Format != FormatVersion {
		return fmt.Errorf("unsupported format version %d (want %d)", h.Format, FormatVersion)
	}
	if h.DType != dtypeDoc {
		return fmt.Errorf("unsupported dtype %q (want %q)", h.DType, dtypeDoc)
	}
	if len(h.Knobs) == 0 || len(h.Metrics) == 0 {
		return errors.New("header lists no knobs or no metrics")
	}
	n := int64(1)
	for _, k := range h.Knobs {
		if len(k.Values) == 0 {
			return fmt.Errorf("knob %q has no values", k.Name)
		}
		if n > math.MaxInt64/int64(len(k.Values)) {
			return errors.New("configuration count overflows")
		}
		n *= int64(len(k.Values))
	}
	if n != h.Configs {
		return fmt.Errorf("header says %d configurations but the knobs give %d", h.Configs, n)
	}
	return nil
}

// encodeHeader returns the bytes that precede the records.
func encodeHeader(h Header) ([]byte, error) {
	js, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("encode sweep header: %w", err)
	}
	var b bytes.Buffer
	b.WriteString(Magic)
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(len(js)))
	b.Write(n[:])
	b.Write(js)
	binary.LittleEndian.PutUint32(n[:], crc32.Checksum(b.Bytes(), crcTable))
	b.Write(n[:])
	return b.Bytes(), nil
}

// ReadHeader reads and checks the header of the sweep table at path
// without loading its records (what the table holds: space, knobs,
// metrics).
func ReadHeader(path string) (Header, error) {
	f, err := os.Open(path)
	if err != nil {
		return Header{}, err
	}
	defer f.Close()
	h, _, err := readHeader(bufio.NewReader(f))
	if err != nil {
		return Header{}, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

// readHeader reads and checks the header at the start of r and returns it
// with its size in bytes.
func readHeader(r io.Reader) (Header, int64, error) {
	var h Header
	var pre [12]byte
	n, err := io.ReadFull(r, pre[:])
	if n >= 8 && string(pre[:8]) == magicV1 {
		return h, 0, fmt.Errorf("a sweep table of format 1 (written by an older commgraph, without checksums); %s", advice)
	}
	if err != nil {
		if n > 0 && bytes.HasPrefix([]byte(Magic), pre[:min(n, 8)]) {
			return h, 0, fmt.Errorf("truncated sweep header (%d bytes); %s", n, advice)
		}
		return h, 0, fmt.Errorf("not a sweep table (%d bytes, shorter than a header)", n)
	}
	if string(pre[:8]) != Magic {
		return h, 0, fmt.Errorf("not a sweep table (magic %q, want %q)", pre[:8], Magic)
	}
	hl := binary.LittleEndian.Uint32(pre[8:])
	if hl > maxHeader {
		return h, 0, fmt.Errorf("sweep header length %d exceeds %d (corrupt header); %s", hl, maxHeader, advice)
	}
	rest := make([]byte, int(hl)+crcSize)
	if _, err := io.ReadFull(r, rest); err != nil {
		return h, 0, fmt.Errorf("truncated sweep header; %s", advice)
	}
	js := rest[:hl]
	sum := crc32.Update(crc32.Checksum(pre[:], crcTable), crcTable, js)
	if binary.LittleEndian.Uint32(rest[hl:]) != sum {
		return h, 0, fmt.Errorf("sweep header checksum mismatch (corrupt header); %s", advice)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return h, 0, fmt.Errorf("sweep header: %w", err)
	}
	if err := h.validate(); err != nil {
		return h, 0, fmt.Errorf("sweep header: %w", err)
	}
	return h, 12 + int64(hl) + crcSize, nil
}

// Table is a complete sweep held in memory.
type Table struct {
	Header
	// Data holds Configs records of len(Metrics) values, in index order.
	Data []float64

	radices []int
	strides []int
}

// Read loads the complete sweep table at path, checking every checksum.
// A truncated, corrupt (even one changed value) or foreign file is an error
// that names the file and what to do.
func Read(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	t, err := readTable(bufio.NewReader(f), st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// readTable decodes a complete table of size bytes from r.
func readTable(r io.Reader, size int64) (*Table, error) {
	h, off, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	ds, err := h.dataSize(off)
	if err != nil {
		return nil, err
	}
	if want := off + ds; size != want {
		return nil, fmt.Errorf("size %d bytes, a complete table of %d configurations has %d (incomplete or corrupt; rerun the sweep to resume it, or %s)",
			size, h.Configs, want, advice)
	}
	if h.Configs*int64(len(h.Metrics)) > math.MaxInt {
		return nil, fmt.Errorf("table too large for memory")
	}
	t := &Table{Header: h, Data: make([]float64, h.Configs*int64(len(h.Metrics)))}
	nm := len(h.Metrics)
	rec := make([]byte, h.RecordSize())
	for i := range h.Configs {
		if _, err := io.ReadFull(r, rec); err != nil {
			return nil, fmt.Errorf("read record %d: %w", i, err)
		}
		if !recordOK(rec, i) {
			return nil, fmt.Errorf("the record of configuration %d fails its checksum (the file is corrupt); %s", i, advice)
		}
		getRecord(rec, t.Data[i*int64(nm):(i+1)*int64(nm)])
	}
	t.init()
	return t, nil
}

func (t *Table) init() {
	t.radices = t.Header.Radices()
	t.strides = strides(t.radices)
}

func strides(radices []int) []int {
	s := make([]int, len(radices))
	m := 1
	for k := len(radices) - 1; k >= 0; k-- {
		s[k] = m
		m *= radices[k]
	}
	return s
}

// Len returns the number of configurations.
func (t *Table) Len() int { return int(t.Configs) }

// Row returns the metrics of configuration i (a view into Data).
func (t *Table) Row(i int) []float64 {
	m := len(t.Metrics)
	return t.Data[i*m : (i+1)*m : (i+1)*m]
}

// Config writes the value indices of configuration i into cfg (allocated
// when nil or too short) and returns it.
func (t *Table) Config(i int, cfg []int) []int {
	if len(cfg) < len(t.radices) {
		cfg = make([]int, len(t.radices))
	}
	cfg = cfg[:len(t.radices)]
	decodeIndex(int64(i), t.radices, cfg)
	return cfg
}

// Index returns the configuration index of cfg.
func (t *Table) Index(cfg []int) (int, error) {
	i, err := Encode(cfg, t.radices)
	return int(i), err
}

// MetricIndex returns the column of the named metric, or -1.
func (t *Table) MetricIndex(name string) int {
	for i, m := range t.Metrics {
		if m == name {
			return i
		}
	}
	return -1
}

// Column returns a copy of metric column m.
func (t *Table) Column(m int) []float64 {
	nm := len(t.Metrics)
	out := make([]float64, t.Len())
	for i := range out {
		out[i] = t.Data[i*nm+m]
	}
	return out
}

// decodeIndex writes the value indices of configuration index i into cfg
// (len(cfg) == len(radices)); the last knob varies fastest.
func decodeIndex(i int64, radices []int, cfg []int) {
	for k := len(radices) - 1; k >= 0; k-- {
		r := int64(radices[k])
		cfg[k] = int(i % r)
		i /= r
	}
}

// Encode returns the index of configuration cfg.
func Encode(cfg []int, radices []int) (int64, error) {
	if len(cfg) != len(radices) {
		return 0, fmt.Errorf("configuration has %d values, the space has %d knobs", len(cfg), len(radices))
	}
	var i int64
	for k, r := range radices {
		if cfg[k] < 0 || cfg[k] >= r {
			return 0, fmt.Errorf("knob %d: value index %d out of range [0,%d)", k, cfg[k], r)
		}
		i = i*int64(r) + int64(cfg[k])
	}
	return i, nil
}

// increment advances cfg to the next configuration in index order.
func increment(cfg []int, radices []int) {
	for k := len(radices) - 1; k >= 0; k-- {
		cfg[k]++
		if cfg[k] < radices[k] {
			return
		}
		cfg[k] = 0
	}
}

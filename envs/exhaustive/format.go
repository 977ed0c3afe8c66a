package exhaustive

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/commgraph/commgraph/envs"
)

// Magic opens every sweep table file (format version 1).
const Magic = "CGSWEEP1"

// FormatVersion is the version recorded in the header.
const FormatVersion = 1

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

// RecordSize is the number of bytes of one configuration's record.
func (h *Header) RecordSize() int64 { return int64(len(h.Metrics)) * 8 }

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
	return b.Bytes(), nil
}

// readHeader reads and checks the header at the start of r and returns it
// with its size in bytes.
func readHeader(r io.Reader) (Header, int64, error) {
	var h Header
	var pre [12]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return h, 0, fmt.Errorf("not a sweep table (short header): %w", err)
	}
	if string(pre[:8]) != Magic {
		return h, 0, fmt.Errorf("not a sweep table (magic %q, want %q)", pre[:8], Magic)
	}
	n := binary.LittleEndian.Uint32(pre[8:])
	if n > maxHeader {
		return h, 0, fmt.Errorf("sweep header length %d exceeds %d", n, maxHeader)
	}
	js := make([]byte, n)
	if _, err := io.ReadFull(r, js); err != nil {
		return h, 0, fmt.Errorf("truncated sweep header: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return h, 0, fmt.Errorf("sweep header: %w", err)
	}
	if err := h.validate(); err != nil {
		return h, 0, fmt.Errorf("sweep header: %w", err)
	}
	return h, 12 + int64(n), nil
}

// Table is a complete sweep held in memory.
type Table struct {
	Header
	// Data holds Configs records of len(Metrics) values, in index order.
	Data []float64

	radices []int
	strides []int
}

// Read loads the complete sweep table at path.
func Read(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h, off, err := readHeader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	want := off + h.Configs*h.RecordSize()
	if st.Size() != want {
		return nil, fmt.Errorf("%s: size %d bytes, a complete table of %d configurations has %d (incomplete or corrupt; rerun the sweep to resume)",
			path, st.Size(), h.Configs, want)
	}
	if h.Configs*int64(len(h.Metrics)) > math.MaxInt {
		return nil, fmt.Errorf("%s: table too large for memory", path)
	}
	raw := make([]byte, h.Configs*h.RecordSize())
	if _, err := io.ReadFull(f, raw); err != nil {
		return nil, fmt.Errorf("%s: read records: %w", path, err)
	}
	t := &Table{Header: h, Data: make([]float64, len(raw)/8)}
	for i := range t.Data {
		t.Data[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
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
	Decode(int64(i), t.radices, cfg)
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

// Decode writes the value indices of configuration index i into cfg
// (len(cfg) == len(radices)); the last knob varies fastest.
func Decode(i int64, radices []int, cfg []int) {
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

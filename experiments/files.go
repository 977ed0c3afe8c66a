package experiments

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/commgraph/commgraph/envs/fsutil"
)

// leadingColumns come first in metrics files, in this order, when present;
// all other columns follow in alphabetical order.
var leadingColumns = []string{"iteration", "env_steps", "unique_evals", "sps", "wall_s"}

// isTimingColumn reports whether a metrics column depends on the wall clock
// (sps, wall_s and any *_seconds column): these are the only columns that
// differ between two runs of the same config and seed, and log.timing =
// false drops them.
func isTimingColumn(k string) bool {
	return k == "sps" || k == "wall_s" || strings.HasSuffix(k, "_seconds")
}

// orderColumns returns the column order for a set of keys.
func orderColumns(keys map[string]bool) []string {
	var out []string
	for _, c := range leadingColumns {
		if keys[c] {
			out = append(out, c)
		}
	}
	var rest []string
	for k := range keys {
		if !slices.Contains(leadingColumns, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

func formatNum(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// jsonNum renders a float for JSON: non-finite values become strings.
func jsonNum(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.Quote(formatNum(v))
	}
	return formatNum(v)
}

// Num is a float64 that survives JSON when it is NaN or infinite (encoded as
// the strings "NaN", "Inf", "-Inf").
type Num float64

// MarshalJSON implements json.Marshaler.
func (n Num) MarshalJSON() ([]byte, error) { return []byte(jsonNum(float64(n))), nil }

// UnmarshalJSON implements json.Unmarshaler.
func (n *Num) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return fmt.Errorf("number %q: %w", s, err)
		}
		*n = Num(v)
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*n = Num(v)
	return nil
}

// Row is one metrics row.
type Row map[string]float64

// encodeJSONL renders a row as one JSON line with keys in column order.
func encodeJSONL(r Row) []byte {
	keys := map[string]bool{}
	for k := range r {
		keys[k] = true
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range orderColumns(keys) {
		if i > 0 {
			b.WriteByte(',')
		}
		// A JSON string, not strconv.Quote: Go's \x escapes are not JSON, and
		// a key read from a file may hold any character (found by
		// FuzzReadMetrics: a DEL in a key made the rewritten row unreadable).
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(k)       // a string always encodes
		b.Truncate(b.Len() - 1) // Encode's newline
		b.WriteByte(':')
		b.WriteString(jsonNum(r[k]))
	}
	b.WriteString("}\n")
	return b.Bytes()
}

// ReadMetricsJSONL reads a metrics.jsonl file. A final line without its
// newline (a write cut short by a kill) is ignored; any other line that is
// not a JSON object of numbers is an error naming path:line (the rows before
// it are returned with it), never a silent truncation.
func ReadMetricsJSONL(path string) ([]Row, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rows []Row
	for n := 1; len(data) > 0; n++ {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break // partial last line
		}
		line := data[:i]
		data = data[i+1:]
		var m map[string]Num
		if err := json.Unmarshal(line, &m); err != nil || m == nil {
			if err == nil {
				err = fmt.Errorf("not a JSON object")
			}
			return rows, &metricsLineError{Path: path, Line: n, Err: err}
		}
		r := make(Row, len(m))
		for k, v := range m {
			r[k] = float64(v)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// metricsLineError is a damaged line of a metrics.jsonl file.
type metricsLineError struct {
	Path string
	Line int
	Err  error
}

func (e *metricsLineError) Error() string {
	return fmt.Sprintf("%s:%d: not a metrics row: %v", e.Path, e.Line, e.Err)
}

func (e *metricsLineError) Unwrap() error { return e.Err }

// metricsLog appends rows to metrics.jsonl and metrics.csv. The CSV columns
// are the union of all keys seen, ordered by orderColumns; when a row brings
// a new key, the CSV is rewritten (atomically) from the rows, so its content
// is always a function of the JSONL rows alone.
type metricsLog struct {
	dir     string
	rows    []Row
	columns []string
	jsonl   *os.File
	csv     *os.File
}

func openMetricsLog(dir string, rows []Row) (*metricsLog, error) {
	l := &metricsLog{dir: dir, rows: rows}
	var buf bytes.Buffer
	for _, r := range rows {
		buf.Write(encodeJSONL(r))
	}
	if err := fsutil.WriteFile(filepath.Join(dir, "metrics.jsonl"), buf.Bytes()); err != nil {
		return nil, err
	}
	if err := l.rewriteCSV(); err != nil {
		return nil, err
	}
	var err error
	if l.jsonl, err = os.OpenFile(filepath.Join(dir, "metrics.jsonl"), os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
		return nil, fmt.Errorf("open metrics: %w", err)
	}
	if l.csv, err = os.OpenFile(filepath.Join(dir, "metrics.csv"), os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
		_ = l.jsonl.Close()
		return nil, fmt.Errorf("open metrics: %w", err)
	}
	return l, nil
}

func (l *metricsLog) rewriteCSV() error {
	keys := map[string]bool{}
	for _, r := range l.rows {
		for k := range r {
			keys[k] = true
		}
	}
	l.columns = orderColumns(keys)
	var b bytes.Buffer
	if len(l.columns) > 0 {
		b.WriteString(strings.Join(l.columns, ","))
		b.WriteByte('\n')
	}
	for _, r := range l.rows {
		b.Write(l.csvLine(r))
	}
	return fsutil.WriteFile(filepath.Join(l.dir, "metrics.csv"), b.Bytes())
}

func (l *metricsLog) csvLine(r Row) []byte {
	var b bytes.Buffer
	for i, c := range l.columns {
		if i > 0 {
			b.WriteByte(',')
		}
		if v, ok := r[c]; ok {
			b.WriteString(formatNum(v))
		}
	}
	b.WriteByte('\n')
	return b.Bytes()
}

func (l *metricsLog) append(r Row) error {
	l.rows = append(l.rows, r)
	if _, err := l.jsonl.Write(encodeJSONL(r)); err != nil {
		return fmt.Errorf("append metrics.jsonl: %w", err)
	}
	fresh := false
	for k := range r {
		if !slices.Contains(l.columns, k) {
			fresh = true
			break
		}
	}
	if fresh {
		if err := l.csv.Close(); err != nil {
			return fmt.Errorf("close metrics.csv: %w", err)
		}
		if err := l.rewriteCSV(); err != nil {
			return err
		}
		var err error
		l.csv, err = os.OpenFile(filepath.Join(l.dir, "metrics.csv"), os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("open metrics.csv: %w", err)
		}
		return nil
	}
	if _, err := l.csv.Write(l.csvLine(r)); err != nil {
		return fmt.Errorf("append metrics.csv: %w", err)
	}
	return nil
}

func (l *metricsLog) sync() error {
	if err := l.jsonl.Sync(); err != nil {
		return err
	}
	return l.csv.Sync()
}

func (l *metricsLog) close() error {
	err1 := l.jsonl.Close()
	err2 := l.csv.Close()
	if err1 != nil {
		return err1
	}
	return err2
}

// ReadMetricsCSV reads a metrics.csv into rows (empty cells are absent keys).
func ReadMetricsCSV(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	var header []string
	var rows []Row
	n := 0
	for sc.Scan() {
		n++
		cells := strings.Split(sc.Text(), ",")
		if header == nil {
			header = cells
			continue
		}
		if len(cells) != len(header) {
			return nil, fmt.Errorf("%s:%d: %d cells, header has %d", path, n, len(cells), len(header))
		}
		r := Row{}
		for i, c := range cells {
			if c == "" {
				continue
			}
			v, err := strconv.ParseFloat(c, 64)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: column %s: %w", path, n, header[i], err)
			}
			r[header[i]] = v
		}
		rows = append(rows, r)
	}
	return rows, sc.Err()
}

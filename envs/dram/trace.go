package dram

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

//go:embed data/*.stl data/*.json
var dataFS embed.FS

// Request is one line of a trace.
type Request struct {
	// Cycle is the timestamp in trace-player clock cycles: absolute for
	// .stl traces, a delay after the previous request was accepted for
	// .rstl traces (Trace.Relative).
	Cycle uint64
	// Addr is the byte address.
	Addr uint64
	// Write is true for write requests.
	Write bool
}

// Trace is a parsed STL trace.
type Trace struct {
	Name     string
	Requests []Request
	// Relative marks .rstl timestamps (delays measured from the moment the
	// previous request was accepted, as the reference's trace player does).
	Relative bool
}

// NumWrites returns the number of write requests.
func (t *Trace) NumWrites() int {
	n := 0
	for i := range t.Requests {
		if t.Requests[i].Write {
			n++
		}
	}
	return n
}

// EmbeddedTraces lists the traces built into the binary, by name (stream,
// random, cloud-1, cloud-2).
func EmbeddedTraces() []string {
	ents, _ := dataFS.ReadDir("data")
	var names []string
	for _, e := range ents {
		if n, ok := strings.CutSuffix(e.Name(), ".stl"); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// LoadTrace resolves nameOrPath and parses it. A path to an existing file
// is read directly; otherwise the name (with or without .stl/.rstl) is
// looked up in each directory of dirs in order and then in the embedded set.
func LoadTrace(nameOrPath string, dirs ...string) (*Trace, error) {
	if nameOrPath == "" {
		return nil, errors.New("empty trace name")
	}
	if p := traceFile(nameOrPath, dirs); p != "" {
		return loadTraceFile(p)
	}
	base := strings.TrimSuffix(strings.TrimSuffix(nameOrPath, ".stl"), ".rstl")
	if data, err := dataFS.ReadFile("data/" + base + ".stl"); err == nil {
		t, err := parseTrace(bytes.NewReader(data), base+".stl", false)
		if err != nil {
			return nil, err
		}
		t.Name = base
		return t, nil
	}
	return nil, fmt.Errorf("trace %q: not a file, not found in %v, and not embedded (embedded: %s)",
		nameOrPath, dirs, strings.Join(EmbeddedTraces(), ", "))
}

// loadTraceFile reads a trace file; the extension .rstl selects relative
// timestamps, anything else absolute ones.
func loadTraceFile(path string) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	defer f.Close()
	t, err := parseTrace(f, path, strings.HasSuffix(path, ".rstl"))
	if err != nil {
		return nil, err
	}
	name := filepath.Base(path)
	name = strings.TrimSuffix(strings.TrimSuffix(name, ".stl"), ".rstl")
	t.Name = name
	return t, nil
}

// parseTrace reads STL lines from r:
//
//	<cycle>:<ws>[(<len>)<ws>]<read|write><ws><hexaddr>[<ws><hexdata>]
//
// '#' starts a comment, blank lines are skipped, and a UTF-8 byte order
// mark at the start is ignored. With relative set the cycle is a delay
// after the previous line (.rstl), otherwise an absolute time (.stl), and
// then the timestamps must not decrease (the player sends in file order).
// Errors name file:line (file is used only in messages).
func parseTrace(r io.Reader, file string, relative bool) (*Trace, error) {
	return readTrace(r, file, relative, true)
}

// readTrace is parseTrace; with sorted false, decreasing .stl timestamps
// are let through (the player sends a request whose time has passed at
// once). Tests use that to run DRAMSys's example trace, which restarts its
// timestamps three times.
func readTrace(r io.Reader, file string, relative, sorted bool) (*Trace, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	t := &Trace{Name: file, Relative: relative}
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if line == 1 {
			b = bytes.TrimPrefix(b, utf8BOM)
		}
		req, ok, err := parseLine(b)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", file, line, err)
		}
		if !ok {
			continue
		}
		if n := len(t.Requests); sorted && !relative && n > 0 && req.Cycle < t.Requests[n-1].Cycle {
			return nil, fmt.Errorf("%s:%d: timestamp %d is earlier than the previous request's %d (the timestamps of an .stl trace must not decrease)",
				file, line, req.Cycle, t.Requests[n-1].Cycle)
		}
		t.Requests = append(t.Requests, req)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", file, line+1, err)
	}
	if len(t.Requests) == 0 {
		return nil, fmt.Errorf("%s: trace has no requests", file)
	}
	return t, nil
}

// maxCycle bounds timestamps (player cycles) so that times in ps fit in int64.
const maxCycle = 1 << 40

func parseLine(b []byte) (Request, bool, error) {
	var req Request
	if i := bytes.IndexByte(b, '#'); i >= 0 {
		b = b[:i]
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return req, false, nil
	}
	// The timestamp ends at ':' or at the first blank.
	end := strings.IndexAny(s, ": \t")
	if end < 0 {
		return req, false, fmt.Errorf("want <cycle>: <read|write> <hexaddr>, got %q", s)
	}
	ts, rest := s[:end], s[end+1:]
	cyc, err := strconv.ParseUint(ts, 10, 64)
	if err != nil || cyc > maxCycle {
		return req, false, fmt.Errorf("bad timestamp %q (want a cycle count <= %d)", ts, uint64(maxCycle))
	}
	req.Cycle = cyc
	f := strings.Fields(rest)
	if len(f) > 0 && strings.HasPrefix(f[0], "(") {
		if !strings.HasSuffix(f[0], ")") {
			return req, false, fmt.Errorf("bad length token %q", f[0])
		}
		n, err := strconv.ParseUint(f[0][1:len(f[0])-1], 10, 32)
		if err != nil || n == 0 {
			return req, false, fmt.Errorf("bad length token %q", f[0])
		}
		f = f[1:]
	}
	if len(f) < 2 {
		return req, false, fmt.Errorf("want <read|write> <hexaddr> after the timestamp, got %q", rest)
	}
	switch strings.ToLower(f[0]) {
	case "read":
	case "write":
		req.Write = true
	default:
		return req, false, fmt.Errorf("unknown command %q (want read or write)", f[0])
	}
	a := f[1]
	if len(a) > 2 && (a[:2] == "0x" || a[:2] == "0X") {
		a = a[2:]
	}
	addr, err := strconv.ParseUint(a, 16, 64)
	if err != nil {
		return req, false, fmt.Errorf("bad hex address %q", f[1])
	}
	req.Addr = addr
	if len(f) > 3 {
		return req, false, fmt.Errorf("unexpected tokens after the data: %q", strings.Join(f[3:], " "))
	}
	if len(f) == 3 {
		d := f[2]
		if len(d) > 2 && (d[:2] == "0x" || d[:2] == "0X") {
			d = d[2:]
		}
		for i := 0; i < len(d); i++ {
			c := d[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return req, false, fmt.Errorf("bad hex data %q", f[2])
			}
		}
	}
	return req, true, nil
}

// Memory estimate of a trace file, for the guards that refuse inputs too
// large to load before reading them (issue 10): the shortest valid line is
// 10 bytes ("0: read 0" and a newline), so a file of S bytes holds at most
// S/10 requests. Each request costs traceRequestBytes in the parsed trace
// (a 24-byte Request, up to doubled by the slice's growth) and
// simRequestBytes in every simulator that runs it (its decoded copy: 36
// bytes, plus the decoder's transient row map).
const (
	minTraceLineBytes = 10
	traceRequestBytes = 48
	simRequestBytes   = 96
)

// TraceFileMemory resolves nameOrPath as LoadTrace does and, for a file
// (not an embedded trace), returns its path and an upper bound, in bytes,
// of the memory that loading it and simulating it on sims simulators at
// once takes. Embedded traces return "" and 0 (they are small). It reads
// no more than the file's size.
func TraceFileMemory(nameOrPath string, sims int, dirs ...string) (string, float64) {
	path := traceFile(nameOrPath, dirs)
	if path == "" {
		return "", 0
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", 0
	}
	reqs := float64(st.Size()) / minTraceLineBytes
	return path, reqs * (traceRequestBytes + float64(max(sims, 1))*simRequestBytes)
}

// traceFile returns the file LoadTrace reads for nameOrPath: the path
// itself when it is a file, else the name (as given, then with .stl and
// .rstl) in each directory of dirs in order; "" when none is a file (an
// embedded trace or no trace).
func traceFile(nameOrPath string, dirs []string) string {
	isFile := func(p string) bool { st, err := os.Stat(p); return err == nil && !st.IsDir() }
	if isFile(nameOrPath) {
		return nameOrPath
	}
	base := strings.TrimSuffix(strings.TrimSuffix(nameOrPath, ".stl"), ".rstl")
	for _, d := range dirs {
		if d == "" {
			continue
		}
		for _, p := range []string{filepath.Join(d, nameOrPath), filepath.Join(d, base+".stl"), filepath.Join(d, base+".rstl")} {
			if isFile(p) {
				return p
			}
		}
	}
	return ""
}

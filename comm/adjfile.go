package comm

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
)

// ReadAdjacency reads the File variant's matrix (rows = receivers, columns =
// senders) from path. Two formats: a JSON array of rows ([[1,0],[1,1]]), or
// text with one row per line, values separated by spaces, tabs or commas,
// blank lines and lines starting with '#' ignored. The matrix must be square
// with finite values >= 0. Errors name path:line.
func ReadAdjacency(path string) ([][]float64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseAdjacency(data, path)
}

// parseAdjacency is ReadAdjacency on the file's bytes; path names it in errors.
func parseAdjacency(data []byte, path string) ([][]float64, error) {
	var m [][]float64
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '[' {
		if err := json.Unmarshal(data, &m); err != nil {
			if se, ok := err.(*json.SyntaxError); ok {
				return nil, fmt.Errorf("%s:%d: adjacency: %w", path, lineOf(data, se.Offset), err)
			}
			return nil, fmt.Errorf("%s: adjacency: %w", path, err)
		}
	} else {
		sc := bufio.NewScanner(bytes.NewReader(data))
		line := 0
		for sc.Scan() {
			line++
			s := strings.TrimSpace(sc.Text())
			if s == "" || strings.HasPrefix(s, "#") {
				continue
			}
			fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
			row := make([]float64, len(fields))
			for j, f := range fields {
				v, err := strconv.ParseFloat(f, 64)
				if err != nil {
					return nil, fmt.Errorf("%s:%d: adjacency column %d: %q is not a number", path, line, j+1, f)
				}
				row[j] = v
			}
			m = append(m, row)
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("%s: adjacency: empty matrix", path)
	}
	for i, r := range m {
		if len(r) != len(m) {
			return nil, fmt.Errorf("%s: adjacency row %d has %d values, want %d (square matrix)", path, i+1, len(r), len(m))
		}
		for j, v := range r {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return nil, fmt.Errorf("%s: adjacency [%d][%d] = %v, must be finite and >= 0", path, i+1, j+1, v)
			}
		}
	}
	return m, nil
}

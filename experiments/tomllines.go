package experiments

import (
	"bytes"
	"slices"
	"strings"
)

// keyLines maps every key path of a TOML document to the line where it is
// defined (tables to their header line). It is a light scanner used only to
// put line numbers in error messages; anything it cannot place gets no line.
func keyLines(data []byte) map[string]int {
	lines := map[string]int{}
	var table []string
	depth := 0    // open brackets of a multi-line array value
	inMulti := "" // open multi-line string delimiter
	for i, line := range bytes.Split(data, []byte("\n")) {
		n := i + 1
		s := strings.TrimSpace(string(line))
		if inMulti != "" {
			if strings.Contains(s, inMulti) {
				inMulti = ""
			}
			continue
		}
		if depth > 0 {
			depth += bracketDelta(s)
			continue
		}
		if s == "" || s[0] == '#' {
			continue
		}
		if strings.HasPrefix(s, "[") {
			inner := strings.TrimLeft(s, "[")
			if j := strings.Index(inner, "]"); j >= 0 {
				inner = inner[:j]
			}
			table = splitKey(inner)
			record(lines, table, n)
			continue
		}
		k, val, ok := strings.Cut(s, "=")
		if !ok {
			continue
		}
		path := append(slices.Clone(table), splitKey(k)...)
		record(lines, path, n)
		val = strings.TrimSpace(val)
		for _, d := range []string{`"""`, `'''`} {
			if strings.HasPrefix(val, d) && !strings.Contains(val[3:], d) {
				inMulti = d
			}
		}
		depth = bracketDelta(val)
		if depth < 0 {
			depth = 0
		}
	}
	return lines
}

func record(lines map[string]int, path []string, n int) {
	for j := 1; j <= len(path); j++ {
		p := strings.Join(path[:j], ".")
		if _, ok := lines[p]; !ok || j == len(path) {
			lines[p] = n
		}
	}
}

// bracketDelta counts '[' minus ']' outside strings and comments.
func bracketDelta(s string) int {
	d := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#':
			return d
		case c == '[':
			d++
		case c == ']':
			d--
		}
	}
	return d
}

// splitKey splits a dotted TOML key, honouring quoted parts.
func splitKey(s string) []string {
	var parts []string
	var cur strings.Builder
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '.':
			parts = append(parts, strings.TrimSpace(cur.String()))
			cur.Reset()
		case c == ' ' || c == '\t':
		default:
			cur.WriteByte(c)
		}
	}
	return append(parts, strings.TrimSpace(cur.String()))
}

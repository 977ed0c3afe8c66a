package experiments

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// checkRange checks a value against a range tag; it returns "" when the
// value is allowed or the tag is descriptive only.
func checkRange(v reflect.Value, rng string) string {
	switch v.Kind() {
	case reflect.Int, reflect.Int64:
		if lo, hi, loOpen, hiOpen, ok := parseInterval(rng); ok && !inInterval(float64(v.Int()), lo, hi, loOpen, hiOpen) {
			return fmt.Sprintf("value %d out of range (allowed: %s)", v.Int(), rng)
		}
	case reflect.Float64:
		x := v.Float()
		if math.IsNaN(x) && strings.Contains(rng, "NaN") {
			return ""
		}
		if lo, hi, loOpen, hiOpen, ok := parseInterval(rng); ok && !inInterval(x, lo, hi, loOpen, hiOpen) {
			return fmt.Sprintf("value %v out of range (allowed: %s)", x, rng)
		}
	case reflect.String:
		if alts, ok := parseEnum(rng); ok && !slices.Contains(alts, v.String()) {
			return fmt.Sprintf("value %q is not allowed (allowed: %s)", v.String(), rng)
		}
	case reflect.Slice:
		inner, ok := strings.CutPrefix(rng, "each in ")
		if !ok {
			return ""
		}
		for i := range v.Len() {
			if msg := checkRange(v.Index(i), inner); msg != "" {
				return fmt.Sprintf("element %d: %s", i, msg)
			}
		}
	}
	return ""
}

func inInterval(x, lo, hi float64, loOpen, hiOpen bool) bool {
	if math.IsNaN(x) {
		return false
	}
	if x < lo || (loOpen && x == lo) {
		return false
	}
	if x > hi || (hiOpen && x == hi) {
		return false
	}
	return true
}

// parseInterval reads "[a, b]", "(a, b)", "[a, inf)" ...
func parseInterval(s string) (lo, hi float64, loOpen, hiOpen, ok bool) {
	s = strings.TrimSpace(s)
	if len(s) < 5 || (s[0] != '[' && s[0] != '(') || (s[len(s)-1] != ']' && s[len(s)-1] != ')') {
		return
	}
	a, b, found := strings.Cut(s[1:len(s)-1], ",")
	if !found {
		return
	}
	var err1, err2 error
	lo, err1 = strconv.ParseFloat(strings.TrimSpace(a), 64)
	hi, err2 = strconv.ParseFloat(strings.TrimSpace(b), 64)
	if err1 != nil || err2 != nil {
		return
	}
	return lo, hi, s[0] == '(', s[len(s)-1] == ')', true
}

var enumRE = regexp.MustCompile(`^[A-Za-z0-9_\-]+(\|[A-Za-z0-9_\-]+)+$`)

func parseEnum(s string) ([]string, bool) {
	if !enumRE.MatchString(s) || s == "true|false" {
		return nil, false
	}
	return strings.Split(s, "|"), true
}

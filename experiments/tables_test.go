package experiments

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

// TestTableRangesMatchValidate: for every registered kind whose table has a
// Validate method, the range tags (what the reference documents and the
// decoder checks) and Validate agree at the edges: the defaults pass, and a
// value just outside a finite interval bound fails, naming its key.
func TestTableRangesMatchValidate(t *testing.T) {
	checked := 0
	for _, g := range []struct {
		group string
		reg   map[string]kind
		names []string
	}{{"env", envReg, envKinds()}, {"algorithm", algReg, algorithmKinds()}} {
		for _, name := range g.names {
			k, _ := lookupKind(g.reg, name)
			if _, ok := k.defaults.(validator); !ok {
				continue
			}
			if err := k.defaults.(validator).Validate(); err != nil {
				t.Errorf("[%s.%s] defaults do not validate: %v", g.group, name, err)
			}
			for _, f := range collectFields(k.table, "", nil) {
				lo, hi, loOpen, hiOpen, ok := parseInterval(f.tag.Get("range"))
				if !ok {
					continue
				}
				isInt := f.typ.Kind() == reflect.Int || f.typ.Kind() == reflect.Int64
				for _, edge := range []struct {
					bound float64
					open  bool
					dir   float64
				}{{lo, loOpen, -1}, {hi, hiOpen, +1}} {
					if math.IsInf(edge.bound, 0) {
						continue
					}
					x := edge.bound
					if !edge.open {
						if isInt {
							x += edge.dir
						} else {
							x += edge.dir * 1e-9 * math.Max(1, math.Abs(x))
						}
					}
					v := reflect.New(k.table).Elem()
					v.Set(reflect.ValueOf(k.defaults))
					fv := v.FieldByIndex(f.index)
					if isInt {
						fv.SetInt(int64(x))
					} else {
						fv.SetFloat(x)
					}
					err := v.Interface().(validator).Validate()
					if err == nil || !strings.Contains(err.Error(), f.path) {
						t.Errorf("[%s.%s] %s = %v is outside %s but Validate says %v", g.group, name, f.path, x, f.tag.Get("range"), err)
					}
					checked++
				}
			}
		}
	}
	if checked < 40 {
		t.Errorf("only %d edges checked", checked)
	}
}

package experiments

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int64:
		return "integer"
	case reflect.Float64:
		return "number"
	case reflect.Slice:
		return "array of " + kindName(t.Elem())
	}
	return t.String()
}

// formatDefault renders a default value as it is written in TOML.
func formatDefault(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		return strconv.Quote(v.String())
	case reflect.Float64:
		x := v.Float()
		if math.IsNaN(x) {
			return "nan"
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = formatDefault(v.Index(i))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v.Interface())
}

// schemaMarkdownOf renders the run schema as the Markdown tables of
// docs/configuration.md: one table per TOML table, one row per key with its
// type, default, unit, allowed values and meaning.
func schemaMarkdownOf(fields []field) string {
	def := DefaultConfig()
	return schemaMarkdown(fields, reflect.ValueOf(&def).Elem(), "")
}

// sweepSchemaMarkdown renders the sweep-file schema the same way.
func sweepSchemaMarkdown() string {
	def := defaultSweep()
	return schemaMarkdown(sweepFields, reflect.ValueOf(&def).Elem(), "sweep: ")
}

func schemaMarkdown(fields []field, dv reflect.Value, title string) string {
	var b strings.Builder
	table := "\x00"
	for _, f := range fields {
		t := ""
		if i := strings.LastIndex(f.path, "."); i >= 0 {
			t = f.path[:i]
		}
		if t != table {
			table = t
			if t == "" {
				fmt.Fprintf(&b, "\n### %sTop level\n\n", title)
			} else {
				fmt.Fprintf(&b, "\n### %s[%s]\n\n", title, t)
			}
			b.WriteString("| key | type | default | unit | allowed | meaning |\n|---|---|---|---|---|---|\n")
		}
		unit := f.tag.Get("unit")
		if unit == "" {
			unit = "-"
		}
		fmt.Fprintf(&b, "| `%s` | %s | `%s` | %s | %s | %s |\n", f.path, kindName(f.typ), formatDefault(f.get(dv)),
			unit, strings.ReplaceAll(f.tag.Get("range"), "|", " \\| "), f.tag.Get("doc"))
	}
	return b.String()
}

// sweepKeys returns every key path of the sweep schema.
func sweepKeys() []string { return fieldPaths(sweepFields) }

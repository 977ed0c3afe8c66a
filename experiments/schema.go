package experiments

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/commgraph/commgraph/marl/commformer"
)

// DefaultConfig returns the configuration every file starts from: the
// reference's predator-prey settings for the CommFormer learner (see
// ../shared/spec/commformer.md sections 1-4).
func DefaultConfig() Config {
	return Config{
		Name:   "run",
		Seed:   1,
		OutDir: "runs",
		Env: EnvConfig{
			Kind:      "predprey",
			PredPrey:  PredPreyConfig{Preset: "easy", Vision: -1},
			DRAM:      DRAMConfig{Trace: "stream", Objective: "latency", TargetPowerMW: 1000, TargetTimeNS: 100000, EpisodeLen: 1},
			Synthetic: SyntheticConfig{Knobs: 8, Values: 4, Pairs: 3, Strength: 1.5, SpaceSeed: 1, EpisodeLen: 1},
		},
		Algorithm:  AlgorithmConfig{Kind: "commformer", CommFormer: commformer.DefaultConfig()},
		Search:     SearchConfig{Batch: 32, Population: 32, Mutation: 0.1},
		Budget:     BudgetConfig{Iterations: 250},
		Eval:       EvalConfig{Every: 10, Episodes: 50, Threshold: math.NaN()},
		Log:        LogConfig{GraphEvery: 10, Timing: true},
		Checkpoint: CheckpointConfig{Every: 10, Keep: 2},
	}
}

// field is one leaf key of the schema.
type field struct {
	path  string // dotted key path, e.g. "algorithm.commformer.lr"
	index []int  // reflect field index chain from Config
	typ   reflect.Type
	tag   reflect.StructTag
}

var schemaFields = collectFields(reflect.TypeFor[Config](), "", nil)

func collectFields(t reflect.Type, prefix string, index []int) []field {
	var out []field
	for i := range t.NumField() {
		f := t.Field(i)
		key := f.Tag.Get("toml")
		if key == "" || key == "-" {
			continue
		}
		path := key
		if prefix != "" {
			path = prefix + "." + key
		}
		idx := append(slices.Clone(index), i)
		if f.Type.Kind() == reflect.Struct {
			out = append(out, collectFields(f.Type, path, idx)...)
			continue
		}
		out = append(out, field{path: path, index: idx, typ: f.Type, tag: f.Tag})
	}
	return out
}

// Keys returns every key path of the run schema in declaration order.
func Keys() []string {
	out := make([]string, len(schemaFields))
	for i, f := range schemaFields {
		out[i] = f.path
	}
	return out
}

func lookupField(path string) (field, bool) {
	for _, f := range schemaFields {
		if f.path == path {
			return f, true
		}
	}
	return field{}, false
}

// isTable reports whether path names a table of the schema (e.g. "env.dram").
func isTable(path string) bool {
	for _, f := range schemaFields {
		if strings.HasPrefix(f.path, path+".") {
			return true
		}
	}
	return false
}

// LoadConfig reads and strictly decodes a run configuration file. Relative
// paths inside it (graph_file, optimum_file, a trace path) are resolved
// against the file's directory.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	cfg, err := DecodeConfig(path, data)
	if err != nil {
		return Config{}, err
	}
	resolvePaths(&cfg, filepath.Dir(path))
	return cfg, nil
}

func resolvePaths(cfg *Config, dir string) {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	cfg.Algorithm.CommFormer.GraphFile = abs(cfg.Algorithm.CommFormer.GraphFile)
	cfg.Env.DRAM.OptimumFile = abs(cfg.Env.DRAM.OptimumFile)
	if strings.ContainsAny(cfg.Env.DRAM.Trace, "/\\") || strings.HasSuffix(cfg.Env.DRAM.Trace, ".stl") {
		cfg.Env.DRAM.Trace = abs(cfg.Env.DRAM.Trace)
	}
}

// DecodeConfig strictly decodes TOML text into a Config on top of the
// defaults and validates it. name is used in error messages ("name:line:").
// Unknown keys, wrong types and out-of-range values are errors naming the key
// path and line; all problems are reported together, in line order.
func DecodeConfig(name string, data []byte) (Config, error) {
	cfg := DefaultConfig()
	raw := map[string]any{}
	if _, err := toml.Decode(string(data), &raw); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return Config{}, fmt.Errorf("%s:%d: %s", name, pe.Position.Line, pe.Message)
		}
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	lines := keyLines(data)
	var errs []lineError
	assignTable(reflect.ValueOf(&cfg).Elem(), raw, "", lines, &errs, schemaFields)
	for _, e := range validate(&cfg) {
		errs = append(errs, lineError{line: lines[e.key], key: e.key, msg: e.msg})
	}
	if len(errs) > 0 {
		return Config{}, joinLineErrors(name, errs)
	}
	return cfg, nil
}

// lineError is one problem in a configuration file.
type lineError struct {
	line int
	key  string
	msg  string
}

func joinLineErrors(name string, errs []lineError) error {
	slices.SortStableFunc(errs, func(a, b lineError) int { return a.line - b.line })
	msgs := make([]string, len(errs))
	for i, e := range errs {
		loc := name
		if e.line > 0 {
			loc = fmt.Sprintf("%s:%d", name, e.line)
		}
		msgs[i] = fmt.Sprintf("%s: key %s: %s", loc, e.key, e.msg)
	}
	return errors.New(strings.Join(msgs, "\n"))
}

// assignTable copies a decoded TOML table into the struct v, recording
// unknown keys and type errors.
func assignTable(v reflect.Value, raw map[string]any, prefix string, lines map[string]int, errs *[]lineError, fields []field) {
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		path := k
		if prefix != "" {
			path = prefix + "." + k
		}
		val := raw[k]
		sf, ok := structField(v.Type(), k)
		if !ok {
			*errs = append(*errs, lineError{line: lines[path], key: path, msg: "unknown key" + suggestIn(fields, prefix, k)})
			continue
		}
		fv := v.FieldByIndex(sf.Index)
		if sf.Type.Kind() == reflect.Struct {
			sub, ok := val.(map[string]any)
			if !ok {
				*errs = append(*errs, lineError{line: lines[path], key: path, msg: fmt.Sprintf("expected a table [%s], got %s", path, tomlTypeName(val))})
				continue
			}
			assignTable(fv, sub, path, lines, errs, fields)
			continue
		}
		if err := setValue(fv, val); err != nil {
			*errs = append(*errs, lineError{line: lines[path], key: path, msg: err.Error() + allowed(sf.Tag)})
		}
	}
}

func structField(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Tag.Get("toml") == key {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func allowed(tag reflect.StructTag) string {
	if r := tag.Get("range"); r != "" {
		return " (allowed: " + r + ")"
	}
	return ""
}

// suggest lists the keys known at the level of an unknown key.
func suggest(prefix, key string) string { return suggestIn(schemaFields, prefix, key) }

func suggestIn(fields []field, prefix, key string) string {
	var known []string
	seen := map[string]bool{}
	for _, f := range fields {
		rest, ok := strings.CutPrefix(f.path, prefix+".")
		if prefix == "" {
			rest, ok = f.path, true
		}
		if !ok {
			continue
		}
		head, _, _ := strings.Cut(rest, ".")
		if !seen[head] {
			seen[head] = true
			known = append(known, head)
		}
	}
	where := "at the top level"
	if prefix != "" {
		where = "in [" + prefix + "]"
	}
	return fmt.Sprintf(" %q; known keys %s: %s", key, where, strings.Join(known, ", "))
}

func tomlTypeName(v any) string {
	switch v.(type) {
	case string:
		return fmt.Sprintf("string %q", v)
	case int64:
		return fmt.Sprintf("integer %d", v)
	case float64:
		return fmt.Sprintf("float %v", v)
	case bool:
		return fmt.Sprintf("boolean %v", v)
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	}
	return fmt.Sprintf("%T", v)
}

// setValue assigns a decoded TOML value to a schema leaf, checking the type.
func setValue(fv reflect.Value, val any) error {
	switch fv.Kind() {
	case reflect.String:
		s, ok := val.(string)
		if !ok {
			return fmt.Errorf("expected a string, got %s", tomlTypeName(val))
		}
		fv.SetString(s)
	case reflect.Bool:
		b, ok := val.(bool)
		if !ok {
			return fmt.Errorf("expected a boolean (true or false), got %s", tomlTypeName(val))
		}
		fv.SetBool(b)
	case reflect.Int, reflect.Int64:
		i, ok := val.(int64)
		if !ok {
			return fmt.Errorf("expected an integer, got %s", tomlTypeName(val))
		}
		if fv.OverflowInt(i) {
			return fmt.Errorf("integer %d out of range", i)
		}
		fv.SetInt(i)
	case reflect.Float64:
		switch x := val.(type) {
		case float64:
			fv.SetFloat(x)
		case int64:
			fv.SetFloat(float64(x))
		default:
			return fmt.Errorf("expected a number, got %s", tomlTypeName(val))
		}
	case reflect.Slice:
		arr, ok := val.([]any)
		if !ok {
			if _, isMaps := val.([]map[string]any); !isMaps {
				return fmt.Errorf("expected an array, got %s", tomlTypeName(val))
			}
			return fmt.Errorf("expected an array of %s, got an array of tables", fv.Type().Elem().Kind())
		}
		out := reflect.MakeSlice(fv.Type(), len(arr), len(arr))
		for i, e := range arr {
			if err := setValue(out.Index(i), e); err != nil {
				return fmt.Errorf("element %d: %w", i, err)
			}
		}
		fv.Set(out)
	default:
		return fmt.Errorf("unsupported field type %s", fv.Type())
	}
	return nil
}

// ApplyOverride applies one command-line override "key.path=value" to cfg.
// The value is read as a TOML value of the key's type; for string keys a bare
// word is accepted without quotes (--set env.kind=dram). The result is not
// validated: call Validate after all overrides.
func ApplyOverride(cfg *Config, kv string) error {
	key, value, ok := strings.Cut(kv, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return fmt.Errorf("--set %q: expected key=value, e.g. --set algorithm.commformer.lr=3e-4", kv)
	}
	f, found := lookupField(key)
	if !found {
		prefix := ""
		if i := strings.LastIndex(key, "."); i >= 0 {
			prefix = key[:i]
		}
		if isTable(key) {
			return fmt.Errorf("--set %s: key %s is a table; set one of its keys", kv, key)
		}
		last := key[strings.LastIndex(key, ".")+1:]
		if prefix != "" && !isTable(prefix) {
			return fmt.Errorf("--set %s: unknown key %s (no table [%s])", kv, key, prefix)
		}
		return fmt.Errorf("--set %s: unknown key %s:%s", kv, key, suggest(prefix, last)[len(fmt.Sprintf(" %q;", last)):])
	}
	value = strings.TrimSpace(value)
	var parsed map[string]any
	_, perr := toml.Decode("v = "+value, &parsed)
	var v any
	switch {
	case perr == nil:
		v = parsed["v"]
	case f.typ.Kind() == reflect.String:
		v = value
	default:
		return fmt.Errorf("--set %s: key %s: cannot read %q as a value of type %s%s", kv, key, value, kindName(f.typ), allowed(f.tag))
	}
	if f.typ.Kind() == reflect.String {
		if _, isString := v.(string); !isString {
			v = value // e.g. --set name=2024 keeps the text
		}
	}
	fv := reflect.ValueOf(cfg).Elem().FieldByIndex(f.index)
	if err := setValue(fv, v); err != nil {
		return fmt.Errorf("--set %s: key %s: %v%s", kv, key, err, allowed(f.tag))
	}
	return nil
}

// SetKey sets one key of cfg to a decoded TOML value (string, int64,
// float64, bool or []any), checking the type but not the range.
func SetKey(cfg *Config, key string, v any) error {
	f, ok := lookupField(key)
	if !ok {
		if isTable(key) {
			return fmt.Errorf("key %s is a table; name one of its keys", key)
		}
		return fmt.Errorf("unknown key %s of the run schema", key)
	}
	if err := setValue(reflect.ValueOf(cfg).Elem().FieldByIndex(f.index), v); err != nil {
		return fmt.Errorf("key %s: %v%s", key, err, allowed(f.tag))
	}
	return nil
}

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

// keyError is a validation problem of one key.
type keyError struct{ key, msg string }

// Validate checks every value against its allowed range and the cross-key
// rules, returning an error that names each offending key.
func (c *Config) Validate() error {
	errs := validate(c)
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = "key " + e.key + ": " + e.msg
	}
	return errors.New(strings.Join(msgs, "\n"))
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.\-]+(/[A-Za-z0-9_.\-]+)*$`)

func validate(c *Config) []keyError {
	var errs []keyError
	v := reflect.ValueOf(c).Elem()
	for _, f := range schemaFields {
		if msg := checkRange(v.FieldByIndex(f.index), f.tag.Get("range")); msg != "" {
			errs = append(errs, keyError{f.path, msg})
		}
	}
	if !nameRE.MatchString(c.Name) || strings.Contains(c.Name, "..") {
		errs = append(errs, keyError{"name", fmt.Sprintf("%q is not a valid run name (allowed: letters, digits, - _ . and / between parts)", c.Name)})
	}
	if c.Budget.Iterations == 0 && c.Budget.EnvSteps == 0 && c.Budget.Evaluations == 0 {
		errs = append(errs, keyError{"budget.iterations", "no budget: set at least one of budget.iterations, budget.env_steps, budget.evaluations to a positive value"})
	}
	if 2*c.Env.Synthetic.Pairs > c.Env.Synthetic.Knobs {
		errs = append(errs, keyError{"env.synthetic.pairs", fmt.Sprintf("%d pairs need %d knobs, have %d", c.Env.Synthetic.Pairs, 2*c.Env.Synthetic.Pairs, c.Env.Synthetic.Knobs)})
	}
	if c.Algorithm.Kind == "commformer" {
		errs = appendNew(errs, ownerErrors("algorithm.commformer", c.Algorithm.CommFormer.Validate()))
	}
	seen := map[int64]bool{}
	for _, s := range c.Seeds {
		if seen[s] {
			errs = append(errs, keyError{"seeds", fmt.Sprintf("seed %d listed twice", s)})
		}
		seen[s] = true
	}
	return errs
}

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

// EncodeConfig writes cfg as TOML (the resolved configuration of a run).
func EncodeConfig(cfg Config) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# Resolved configuration written by commgraph; `commgraph run` on this file repeats the run.\n")
	if err := toml.NewEncoder(&b).Encode(cfg); err != nil {
		return nil, fmt.Errorf("encode config: %w", err)
	}
	return b.Bytes(), nil
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

// SchemaMarkdown renders the run schema as the Markdown tables of
// docs/configuration.md: one table per TOML table, one row per key with its
// type, default, unit, allowed values and meaning.
func SchemaMarkdown() string {
	def := DefaultConfig()
	return schemaMarkdown(schemaFields, reflect.ValueOf(&def).Elem(), "")
}

// SweepSchemaMarkdown renders the sweep-file schema the same way.
func SweepSchemaMarkdown() string {
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
		fmt.Fprintf(&b, "| `%s` | %s | `%s` | %s | %s | %s |\n", f.path, kindName(f.typ), formatDefault(dv.FieldByIndex(f.index)),
			unit, strings.ReplaceAll(f.tag.Get("range"), "|", " \\| "), f.tag.Get("doc"))
	}
	return b.String()
}

// SweepKeys returns every key path of the sweep schema.
func SweepKeys() []string {
	out := make([]string, len(sweepFields))
	for i, f := range sweepFields {
		out[i] = f.path
	}
	return out
}

// ownerErrors turns the errors of a component's own Validate (one per
// line, each starting with the offending key) into key errors under the
// table prefix.
func ownerErrors(prefix string, err error) []keyError {
	if err == nil {
		return nil
	}
	var out []keyError
	for _, line := range strings.Split(err.Error(), "\n") {
		key, msg, ok := strings.Cut(line, " ")
		key = strings.TrimRight(key, ":")
		if !ok || !keyNameRE.MatchString(key) {
			out = append(out, keyError{prefix, line})
			continue
		}
		if v, ok := strings.CutPrefix(msg, "= "); ok {
			msg = "value " + v
		}
		out = append(out, keyError{prefix + "." + key, msg})
	}
	return out
}

// appendNew appends the errors of keys that have none yet (a component's
// own Validate repeats the range checks of its tags).
func appendNew(errs, more []keyError) []keyError {
	for _, e := range more {
		if !slices.ContainsFunc(errs, func(o keyError) bool { return o.key == e.key }) {
			errs = append(errs, e)
		}
	}
	return errs
}

var keyNameRE = regexp.MustCompile(`^[a-z0-9_]+$`)

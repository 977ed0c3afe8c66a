package experiments

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// DefaultConfig returns the configuration every file starts from: a
// predator-prey run of the CommFormer learner. The tables of the registered
// kinds start from the defaults their packages define (e.g.
// commformer.DefaultConfig); nothing here repeats them.
func DefaultConfig() Config {
	return Config{
		Name:       "run",
		Seed:       1,
		OutDir:     "runs",
		Env:        EnvConfig{Kind: "predprey"},
		Algorithm:  AlgorithmConfig{Kind: "commformer"},
		Budget:     BudgetConfig{Iterations: 250, Regret: math.NaN()},
		Eval:       EvalConfig{Every: 10, Episodes: 50, Threshold: math.NaN()},
		Log:        LogConfig{GraphEvery: 10, Timing: true},
		Checkpoint: CheckpointConfig{Every: 10, Keep: 2},
		MaxMemory:  DefaultMaxMemory,
	}
}

// field is one leaf key of a schema: a field of the root struct, or a field
// of a registered kind's table.
type field struct {
	path  string // dotted key path, e.g. "algorithm.commformer.lr"
	index []int  // reflect field index chain, from the root or from the table type
	typ   reflect.Type
	tag   reflect.StructTag
	group string // "" for a root field; "env" or "algorithm" for a table field
	kind  string // the table's kind
}

// collectFields lists the tagged leaves of t. Structs with a toml key are
// tables; embedded structs without one are inlined.
func collectFields(t reflect.Type, prefix string, index []int) []field {
	var out []field
	for i := range t.NumField() {
		f := t.Field(i)
		key := f.Tag.Get("toml")
		idx := append(slices.Clone(index), i)
		if f.Anonymous && key == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, collectFields(f.Type, prefix, idx)...)
			continue
		}
		if key == "" || key == "-" || !f.IsExported() {
			continue
		}
		path := key
		if prefix != "" {
			path = prefix + "." + key
		}
		if f.Type.Kind() == reflect.Struct {
			out = append(out, collectFields(f.Type, path, idx)...)
			continue
		}
		out = append(out, field{path: path, index: idx, typ: f.Type, tag: f.Tag})
	}
	return out
}

var rootFields = collectFields(reflect.TypeFor[Config](), "", nil)

// schemaFields returns every key of the run schema: the root fields, with
// the tables of the registered kinds after their group's own keys (kinds in
// sorted order).
func schemaFields() []field {
	var out []field
	for i, f := range rootFields {
		out = append(out, f)
		for _, g := range []struct {
			group string
			reg   map[string]kind
			names func() []string
		}{{"env", envReg, envKinds}, {"algorithm", algReg, algorithmKinds}} {
			last := i+1 == len(rootFields) || !strings.HasPrefix(rootFields[i+1].path, g.group+".")
			if !strings.HasPrefix(f.path, g.group+".") || !last {
				continue
			}
			for _, name := range g.names() {
				k, _ := lookupKind(g.reg, name)
				for _, tf := range collectFields(k.table, g.group+"."+name, nil) {
					tf.group, tf.kind = g.group, name
					out = append(out, tf)
				}
			}
		}
	}
	return out
}

// table returns the table value of a table field's kind.
func (c *Config) table(group, name string) any {
	if group == "env" {
		return c.Env.Table(name)
	}
	return c.Algorithm.Table(name)
}

// get returns the field's value in root (a *Config or *Sweep, dereferenced).
func (f field) get(root reflect.Value) reflect.Value {
	if f.group == "" {
		return root.FieldByIndex(f.index)
	}
	return reflect.ValueOf(root.Addr().Interface().(*Config).table(f.group, f.kind)).FieldByIndex(f.index)
}

// set assigns a decoded TOML value to the field in root, checking the type.
func (f field) set(root reflect.Value, val any) error {
	if f.group == "" {
		return setValue(root.FieldByIndex(f.index), val)
	}
	cfg := root.Addr().Interface().(*Config)
	cur := reflect.ValueOf(cfg.table(f.group, f.kind))
	nv := reflect.New(cur.Type()).Elem()
	nv.Set(cur)
	if err := setValue(nv.FieldByIndex(f.index), val); err != nil {
		return err
	}
	if f.group == "env" {
		return cfg.Env.SetTable(f.kind, nv.Interface())
	}
	return cfg.Algorithm.SetTable(f.kind, nv.Interface())
}

func fieldPaths(fields []field) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.path
	}
	return out
}

func lookupField(fields []field, path string) (field, bool) {
	for _, f := range fields {
		if f.path == path {
			return f, true
		}
	}
	return field{}, false
}

// isTable reports whether path names a table of the schema (e.g.
// "env.dram"), including the empty table of a kind without options.
func isTable(fields []field, path string) bool {
	for _, f := range fields {
		if strings.HasPrefix(f.path, path+".") {
			return true
		}
	}
	group, name, ok := strings.Cut(path, ".")
	switch {
	case !ok:
		return false
	case group == "env":
		_, ok = lookupKind(envReg, name)
	case group == "algorithm":
		_, ok = lookupKind(algReg, name)
	default:
		ok = false
	}
	return ok
}

// LoadConfig reads and strictly decodes a run configuration file. Relative
// paths inside it (keys tagged path:"file" or "name-or-file", such as
// graph_file, optimum_file or a trace file) are resolved against the file's
// directory.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	if empty, _ := isEmptyTOML(data); empty {
		return Config{}, fmt.Errorf("%s sets no keys: an empty file is refused rather than run with every default; start from a file in configs/ (every key is listed in docs/configuration.md)", path)
	}
	cfg, err := DecodeConfig(path, data)
	if err != nil {
		return Config{}, err
	}
	if err := resolvePaths(&cfg, filepath.Dir(path)); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

func resolvePaths(cfg *Config, dir string) error {
	root := reflect.ValueOf(cfg).Elem()
	for _, f := range schemaFields() {
		mode := f.tag.Get("path")
		if mode == "" || f.typ.Kind() != reflect.String {
			continue
		}
		p := f.get(root).String()
		if p == "" || filepath.IsAbs(p) {
			continue
		}
		if mode == "name-or-file" && !strings.ContainsAny(p, "/\\") && filepath.Ext(p) == "" {
			continue // a name
		}
		if err := f.set(root, filepath.Join(dir, p)); err != nil {
			return fmt.Errorf("key %s: %w", f.path, err)
		}
	}
	return nil
}

// isEmptyTOML reports whether data is valid TOML that sets no key (empty,
// blank or only comments).
func isEmptyTOML(data []byte) (bool, error) {
	raw := map[string]any{}
	if _, err := toml.Decode(string(data), &raw); err != nil {
		return false, err
	}
	return len(raw) == 0, nil
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
	fields := schemaFields()
	assignTable(reflect.ValueOf(&cfg).Elem(), raw, "", lines, &errs, fields)
	for _, e := range validate(&cfg) {
		errs = append(errs, lineError{line: lineOf(lines, e.key), key: e.key, msg: e.msg})
	}
	if len(errs) > 0 {
		return Config{}, joinLineErrors(name, errs)
	}
	return cfg, nil
}

// lineOf returns the line of a key, or of its closest enclosing table.
func lineOf(lines map[string]int, key string) int {
	for k := key; k != ""; {
		if n, ok := lines[k]; ok {
			return n
		}
		i := strings.LastIndex(k, ".")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return 0
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

// assignTable copies a decoded TOML table into root (a Config or a Sweep)
// through the schema's fields, recording unknown keys and type errors.
func assignTable(root reflect.Value, raw map[string]any, prefix string, lines map[string]int, errs *[]lineError, fields []field) {
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
		if f, ok := lookupField(fields, path); ok {
			if err := f.set(root, val); err != nil {
				*errs = append(*errs, lineError{line: lines[path], key: path, msg: err.Error() + allowed(f.tag)})
			}
			continue
		}
		if !isTable(fields, path) {
			*errs = append(*errs, lineError{line: lines[path], key: path, msg: "unknown key" + suggest(fields, prefix, k)})
			continue
		}
		sub, ok := val.(map[string]any)
		if !ok {
			*errs = append(*errs, lineError{line: lines[path], key: path, msg: fmt.Sprintf("expected a table [%s], got %s", path, tomlTypeName(val))})
			continue
		}
		assignTable(root, sub, path, lines, errs, fields)
	}
}

func allowed(tag reflect.StructTag) string {
	if r := tag.Get("range"); r != "" {
		return " (allowed: " + r + ")"
	}
	return ""
}

// suggest lists the keys known at the level of an unknown key.
func suggest(fields []field, prefix, key string) string {
	where := "at the top level"
	if prefix != "" {
		where = "in [" + prefix + "]"
	}
	return fmt.Sprintf(" %q; known keys %s: %s", key, where, strings.Join(knownKeys(fields, prefix), ", "))
}

func knownKeys(fields []field, prefix string) []string {
	var known []string
	seen := map[string]bool{}
	add := func(head string) {
		if !seen[head] {
			seen[head] = true
			known = append(known, head)
		}
	}
	for _, f := range fields {
		rest, ok := strings.CutPrefix(f.path, prefix+".")
		if prefix == "" {
			rest, ok = f.path, true
		}
		if ok {
			head, _, _ := strings.Cut(rest, ".")
			add(head)
		}
	}
	switch prefix { // kinds without options have no keys but a table
	case "env":
		for _, k := range envKinds() {
			add(k)
		}
	case "algorithm":
		for _, k := range algorithmKinds() {
			add(k)
		}
	}
	return known
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
	case reflect.Int, reflect.Int64, reflect.Int32:
		i, ok := val.(int64)
		if !ok {
			return fmt.Errorf("expected an integer, got %s", tomlTypeName(val))
		}
		if fv.OverflowInt(i) {
			return fmt.Errorf("integer %d out of range", i)
		}
		fv.SetInt(i)
	case reflect.Uint64, reflect.Uint, reflect.Uint32:
		i, ok := val.(int64)
		if !ok {
			return fmt.Errorf("expected an integer, got %s", tomlTypeName(val))
		}
		if i < 0 || fv.OverflowUint(uint64(i)) {
			return fmt.Errorf("integer %d out of range", i)
		}
		fv.SetUint(uint64(i))
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
	fields := schemaFields()
	f, found := lookupField(fields, key)
	if !found {
		if isTable(fields, key) {
			return fmt.Errorf("--set %s: key %s is a table; set one of its keys", kv, key)
		}
		prefix, last := "", key
		if i := strings.LastIndex(key, "."); i >= 0 {
			prefix, last = key[:i], key[i+1:]
		}
		if prefix != "" && !isTable(fields, prefix) {
			return fmt.Errorf("--set %s: unknown key %s (no table [%s])", kv, key, prefix)
		}
		return fmt.Errorf("--set %s: unknown key %s:%s", kv, key, suggest(fields, prefix, last)[len(fmt.Sprintf(" %q;", last)):])
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
	if err := f.set(reflect.ValueOf(cfg).Elem(), v); err != nil {
		return fmt.Errorf("--set %s: key %s: %v%s", kv, key, err, allowed(f.tag))
	}
	return nil
}

// setKey sets one key of cfg to a decoded TOML value (string, int64,
// float64, bool or []any), checking the type but not the range.
func setKey(cfg *Config, key string, v any) error {
	fields := schemaFields()
	f, ok := lookupField(fields, key)
	if !ok {
		if isTable(fields, key) {
			return fmt.Errorf("key %s is a table; name one of its keys", key)
		}
		return fmt.Errorf("unknown key %s of the run schema", key)
	}
	if err := f.set(reflect.ValueOf(cfg).Elem(), v); err != nil {
		return fmt.Errorf("key %s: %v%s", key, err, allowed(f.tag))
	}
	return nil
}

// keyError is a validation problem of one key.
type keyError struct{ key, msg string }

// Validate checks every value against its allowed range, the cross-key
// rules, and the tables of the selected kinds against their own Validate,
// returning an error that names each offending key.
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
	root := reflect.ValueOf(c).Elem()
	for _, f := range schemaFields() {
		if msg := checkRange(f.get(root), f.tag.Get("range")); msg != "" {
			errs = append(errs, keyError{f.path, msg})
		}
	}
	if !nameRE.MatchString(c.Name) || strings.Contains(c.Name, "..") {
		errs = append(errs, keyError{"name", fmt.Sprintf("%q is not a valid run name (allowed: letters, digits, - _ . and / between parts)", c.Name)})
	}
	if c.Budget.Iterations == 0 && c.Budget.EnvSteps == 0 && c.Budget.Evaluations == 0 {
		errs = append(errs, keyError{"budget.iterations", "no budget: set at least one of budget.iterations, budget.env_steps, budget.evaluations to a positive value"})
	}
	if r := c.Budget.Regret; !math.IsNaN(r) && (r < 0 || math.IsInf(r, 0)) {
		errs = append(errs, keyError{"budget.regret", fmt.Sprintf("value %v out of range (allowed: [0, inf), or nan = off)", r)})
	}
	if _, ok := lookupKind(envReg, c.Env.Kind); !ok {
		errs = append(errs, keyError{"env.kind", fmt.Sprintf("unknown environment %q (registered: %s)", c.Env.Kind, strings.Join(envKinds(), ", "))})
	}
	if _, ok := lookupKind(algReg, c.Algorithm.Kind); !ok {
		errs = append(errs, keyError{"algorithm.kind", fmt.Sprintf("unknown algorithm %q (registered: %s)", c.Algorithm.Kind, strings.Join(algorithmKinds(), ", "))})
	}
	for _, sel := range []struct{ group, name string }{{"env", c.Env.Kind}, {"algorithm", c.Algorithm.Kind}} {
		if v, ok := c.table(sel.group, sel.name).(validator); ok {
			errs = appendNew(errs, ownerErrors(sel.group+"."+sel.name, v.Validate()))
		}
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

var keyNameRE = regexp.MustCompile(`^[a-z0-9_\-]+$`)

// encodeConfig writes cfg as TOML (the resolved configuration of a run):
// every key of the root and the tables of the selected kinds, in schema
// order.
func encodeConfig(cfg Config) ([]byte, error) {
	var b strings.Builder
	b.WriteString("# Resolved configuration written by commgraph; `commgraph run` on this file repeats the run.\n")
	root := reflect.ValueOf(&cfg).Elem()
	table := ""
	for _, f := range schemaFields() {
		if (f.group == "env" && f.kind != cfg.Env.Kind) || (f.group == "algorithm" && f.kind != cfg.Algorithm.Kind) {
			continue
		}
		t, key := "", f.path
		if i := strings.LastIndex(f.path, "."); i >= 0 {
			t, key = f.path[:i], f.path[i+1:]
		}
		if t != table {
			table = t
			fmt.Fprintf(&b, "\n[%s]\n", t)
		}
		var enc strings.Builder
		if err := toml.NewEncoder(&enc).Encode(map[string]any{key: f.get(root).Interface()}); err != nil {
			return nil, fmt.Errorf("encode config key %s: %w", f.path, err)
		}
		b.WriteString(enc.String())
	}
	return []byte(b.String()), nil
}

package experiments

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// sameConfig checks that the resolved configuration recorded at path (a run
// directory's config.toml) equals resolved, the one about to run. A missing
// file is fine (a fresh directory); a different one is refused with the
// differing keys and both values named (a configuration error, ErrConfig);
// a recorded file that does not parse is damage (a plain error). A file
// recorded by an older commgraph that lacked keys now at their defaults is
// the same run: legacySHA is then its SHA-256 (hex), which the run's older
// checkpoints carry, and the file is to be kept as it is. The refusal also covers a larger
// budget: a longer run is not the same run continued (schedules, the last
// evaluation and the summary depend on the budget), so it needs its own
// name or out_dir.
func sameConfig(path string, resolved []byte) (legacySHA string, err error) {
	old, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the run's configuration: %w", err)
	}
	if bytes.Equal(old, resolved) {
		return "", nil
	}
	dir := filepath.Dir(path)
	var probe map[string]any
	if _, err := toml.Decode(string(old), &probe); err != nil {
		// Damage, not a changed configuration: a runtime failure.
		return "", fmt.Errorf("%s does not parse (%v): the file is damaged, so the run directory %s cannot be resumed; delete it to start over", path, err, dir)
	}
	if upgraded, err := reresolve(path, old); err == nil && bytes.Equal(upgraded, resolved) {
		// Written by a commgraph that lacked keys added since: they take
		// their defaults, which leave a run's behaviour as it was.
		sum := sha256.Sum256(old)
		return hex.EncodeToString(sum[:]), nil
	}
	diffs := configDiff(old, resolved)
	if len(diffs) == 0 {
		diffs = []string{"(the files differ in form; compare them with diff)"}
	}
	return "", asConfigError(fmt.Errorf("run directory %s holds a run of a different configuration; changed keys (recorded -> now):\n  %s\nrefused: use another name or out_dir for the changed run (a larger budget too: a longer run is a new run), or delete the directory to start over", dir, strings.Join(diffs, "\n  ")))
}

// reresolve decodes a recorded resolved configuration with this version's
// schema and writes it back resolved: keys the recording lacks (added to
// commgraph after the run started) take their defaults. Every recorded key
// keeps its recorded value, so a changed default never changes an old run.
func reresolve(path string, recorded []byte) ([]byte, error) {
	cfg, err := DecodeConfig(path, recorded)
	if err != nil {
		return nil, err
	}
	return encodeConfig(cfg)
}

// configDiff lists the keys whose values differ between two resolved
// configurations, as "key: old -> new" lines in key order ("(absent)" for a
// key one side lacks).
func configDiff(a, b []byte) []string {
	var ma, mb map[string]any
	if _, err := toml.Decode(string(a), &ma); err != nil {
		return []string{fmt.Sprintf("(the recorded config.toml does not parse: %v)", err)}
	}
	if _, err := toml.Decode(string(b), &mb); err != nil {
		return nil
	}
	fa, fb := map[string]any{}, map[string]any{}
	flattenTOML("", ma, fa)
	flattenTOML("", mb, fb)
	keys := map[string]bool{}
	for k := range fa {
		keys[k] = true
	}
	for k := range fb {
		keys[k] = true
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		va, oka := fa[k]
		vb, okb := fb[k]
		// %#v also equates NaN with NaN (an unchanged "off" value).
		if oka && okb && (reflect.DeepEqual(va, vb) || fmt.Sprintf("%#v", va) == fmt.Sprintf("%#v", vb)) {
			continue
		}
		out = append(out, fmt.Sprintf("%s: %s -> %s", k, tomlShow(va, oka), tomlShow(vb, okb)))
	}
	return out
}

func flattenTOML(prefix string, m map[string]any, out map[string]any) {
	for k, v := range m {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok {
			flattenTOML(key, sub, out)
			continue
		}
		out[key] = v
	}
}

func tomlShow(v any, ok bool) string {
	if !ok {
		return "(absent)"
	}
	if s, isStr := v.(string); isStr {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

package experiments

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/commgraph/commgraph/envs/fsutil"
)

// summaryFormat is the version of summary.json that writeSummary writes and
// the only one readSummary checks. A file without a format field (written
// before versions existed) is read unchecked.
const summaryFormat = 1

// summaryAdvice says what to do about a summary.json that fails its check.
const summaryAdvice = "delete summary.json and DONE in that directory and run the same config again: the run resumes from its last checkpoint and writes a new summary (or delete the run directory to start over)"

// encodeSummary returns the bytes of summary.json for s: indented JSON with
// s.Format set and s.SHA256 the SHA-256 (hex) of the same encoding with an
// empty SHA256 field. s is updated to what the file holds.
func encodeSummary(s *Summary) ([]byte, error) {
	s.Format, s.SHA256 = summaryFormat, ""
	body, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode summary: %w", err)
	}
	sum := sha256.Sum256(body)
	s.SHA256 = hex.EncodeToString(sum[:])
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode summary: %w", err)
	}
	return append(data, '\n'), nil
}

// writeSummary writes dir/summary.json atomically.
func writeSummary(dir string, s *Summary) error {
	data, err := encodeSummary(s)
	if err != nil {
		return err
	}
	return fsutil.WriteFile(filepath.Join(dir, "summary.json"), data)
}

// decodeSummary parses the content of a summary.json and checks its format
// version and checksum. The error says what is wrong, without the file name.
func decodeSummary(data []byte) (Summary, error) {
	var head struct {
		Format *int    `json:"format"`
		SHA256 *string `json:"sha256"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return Summary{}, fmt.Errorf("not a summary (truncated or damaged JSON): %w", err)
	}
	var s Summary
	if head.Format == nil && head.SHA256 == nil {
		// Written before summaries had a version: nothing to check against.
		if err := json.Unmarshal(data, &s); err != nil {
			return Summary{}, fmt.Errorf("not a summary: %w", err)
		}
		return s, nil
	}
	switch {
	case head.Format == nil || head.SHA256 == nil:
		return Summary{}, fmt.Errorf("has only one of the format and sha256 fields (damaged or edited)")
	case *head.Format != summaryFormat:
		return Summary{}, fmt.Errorf("format version %d; this build reads version %d: use the commgraph that wrote it", *head.Format, summaryFormat)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return Summary{}, fmt.Errorf("not a summary of format %d (damaged or edited): %w", summaryFormat, err)
	}
	want := s.SHA256
	check := s
	if _, err := encodeSummary(&check); err != nil {
		return Summary{}, err
	}
	if check.SHA256 != want {
		return Summary{}, fmt.Errorf("checksum mismatch: the file was damaged or edited after the run wrote it")
	}
	return s, nil
}

// readSummary reads and checks dir/summary.json; an error names the file
// and, for a damaged one, what to do.
func readSummary(dir string) (Summary, error) {
	path := filepath.Join(dir, "summary.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return Summary{}, fmt.Errorf("read summary: %w", err)
	}
	s, err := decodeSummary(data)
	if err != nil {
		return Summary{}, fmt.Errorf("%s: %w; %s", path, err, summaryAdvice)
	}
	s.Dir = dir
	return s, nil
}

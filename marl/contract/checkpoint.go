package contract

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/commgraph/commgraph/envs"
	"github.com/commgraph/commgraph/envs/fsutil"
)

// Checkpoint file format. One format, written and read only here, holds the
// complete resumable state of a run: the algorithm's part (Checkpoint's
// fields), the design-evaluation cache of a design-space task and the
// driver's part (Run). Layout:
//
//	offset 0   8 bytes   magic "CGCKPT\x1a\n"
//	offset 8   uint32 LE format version (CheckpointVersion)
//	offset 12  uint64 LE N, the payload length in bytes
//	offset 20  32 bytes  SHA-256 of bytes 0..19 followed by the payload
//	offset 52  N bytes   payload: the gob encoding of Checkpoint
//
// A reader checks the magic, the version, the length against the bytes that
// are there, then the checksum, and only then decodes, so a truncated, bit-
// flipped or foreign file is an error that names the damage, never a state
// that loads and continues with different numbers. Version 1 (a text header
// line "commgraph-checkpoint v1" before separately framed algorithm bytes) is
// recognised and refused by name.
const (
	// CheckpointVersion is the version WriteCheckpoint writes and the only one
	// ReadCheckpoint accepts. Bump it whenever the payload changes meaning.
	CheckpointVersion = 2

	checkpointMagic   = "CGCKPT\x1a\n"
	checkpointHeader  = 8 + 4 + 8 + sha256.Size
	checkpointV1Magic = "commgraph-checkpoint v1\n"
	maxCheckpoint     = 1 << 36 // 64 GiB: larger lengths are damage, not models
)

// TensorState is one named tensor in a checkpoint (exactly one of F32/F64 set).
type TensorState struct {
	Name  string
	Shape []int
	F32   []float32
	F64   []float64
}

// AdamState is the complete state of an Adam optimiser.
type AdamState struct {
	Name                  string
	LR, Beta1, Beta2, Eps float64
	Step                  int
	M, V                  [][]float64
}

// NamedBlob is an opaque named state (e.g. a PCG source's MarshalBinary).
type NamedBlob struct {
	Name string
	Data []byte
}

// RunState is the driver's part of a checkpoint (experiments' runner fills
// it; algorithms leave it zero).
type RunState struct {
	ConfigSHA256 string  // of the resolved configuration the run was started with
	WallSeconds  float64 // wall-clock seconds of the run up to this checkpoint
}

// Checkpoint is the complete resumable state of a training run. Everything is
// stored in slices (never maps) so that encoding is deterministic.
type Checkpoint struct {
	Algorithm  string // e.g. "commformer"
	Iteration  int
	EnvSteps   int64
	Params     []TensorState // model parameters in creation order
	Extra      []TensorState // other tensors (e.g. the graph logits alpha)
	Optimisers []AdamState
	ValueNorm  ValueNorm
	RNG        []NamedBlob // every random source's binary state
	Blobs      []NamedBlob // anything else the algorithm needs
	Scalars    []float64   // algorithm-defined counters
	// Evaluations is the evaluation cache of a design-space task
	// (envs.Counted.Records), so that a resumed run charges its budget and
	// answers repeats exactly as before.
	Evaluations []envs.CountedRecord
	Run         RunState
}

// Encode writes the checkpoint in the file format above.
func (c *Checkpoint) Encode(w io.Writer) error {
	var payload bytes.Buffer
	if err := gob.NewEncoder(&payload).Encode(c); err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	hdr := make([]byte, checkpointHeader)
	copy(hdr, checkpointMagic)
	binary.LittleEndian.PutUint32(hdr[8:], CheckpointVersion)
	binary.LittleEndian.PutUint64(hdr[12:], uint64(payload.Len()))
	sum := checkpointSum(hdr[:20], payload.Bytes())
	copy(hdr[20:], sum[:])
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	_, err := w.Write(payload.Bytes())
	return err
}

func checkpointSum(head, payload []byte) [sha256.Size]byte {
	h := sha256.New()
	h.Write(head)
	h.Write(payload)
	var out [sha256.Size]byte
	h.Sum(out[:0])
	return out
}

// ErrBadCheckpoint is wrapped by every error about a checkpoint's bytes
// (foreign, truncated, corrupt, unknown version, trailing data); errors of a
// checkpoint that decodes but does not fit the model do not wrap it.
var ErrBadCheckpoint = errors.New("unusable checkpoint file")

// checkpointAdvice tells the user what to do with a damaged checkpoint.
const checkpointAdvice = "delete this file and rerun to resume from the previous checkpoint (or delete the run directory to start over)"

func badCheckpoint(format string, args ...any) error {
	return fmt.Errorf("%w: %s; %s", ErrBadCheckpoint, fmt.Sprintf(format, args...), checkpointAdvice)
}

// DecodeCheckpoint reads a checkpoint written by Encode, checking magic,
// version, length and checksum before decoding. It reads at most the
// declared length past the header and refuses bytes after it.
func DecodeCheckpoint(r io.Reader) (*Checkpoint, error) {
	hdr := make([]byte, checkpointHeader)
	n, err := io.ReadFull(r, hdr)
	head := hdr[:n]
	switch {
	case n == 0:
		return nil, badCheckpoint("empty file")
	case bytes.HasPrefix(head, []byte(checkpointV1Magic)):
		return nil, badCheckpoint("format version 1 (written by an older commgraph); this build reads version %d only: finish the run with the commgraph that started it", CheckpointVersion)
	case !bytes.HasPrefix([]byte(checkpointMagic), head[:min(n, 8)]):
		return nil, badCheckpoint("not a commgraph checkpoint (starts with %q)", head[:min(n, 8)])
	case err != nil:
		return nil, badCheckpoint("truncated (%d bytes, shorter than the %d-byte header)", n, checkpointHeader)
	}
	if v := binary.LittleEndian.Uint32(hdr[8:]); v != CheckpointVersion {
		return nil, badCheckpoint("format version %d; this build reads version %d only: use the commgraph that wrote it", v, CheckpointVersion)
	}
	size := binary.LittleEndian.Uint64(hdr[12:])
	if size > maxCheckpoint {
		return nil, badCheckpoint("header declares %d payload bytes (corrupt header)", size)
	}
	var payload bytes.Buffer
	got, err := io.CopyN(&payload, r, int64(size))
	if err == io.EOF {
		return nil, badCheckpoint("truncated (%d of %d payload bytes)", got, size)
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	if k, _ := io.Copy(io.Discard, io.LimitReader(r, 1)); k > 0 {
		return nil, badCheckpoint("bytes after the declared %d-byte payload", size)
	}
	if sum := checkpointSum(hdr[:20], payload.Bytes()); !bytes.Equal(sum[:], hdr[20:]) {
		return nil, badCheckpoint("checksum mismatch (the file is corrupt)")
	}
	var c Checkpoint
	if err := gob.NewDecoder(&payload).Decode(&c); err != nil {
		return nil, badCheckpoint("payload does not decode: %v", err)
	}
	if payload.Len() != 0 {
		return nil, badCheckpoint("%d bytes after the encoded state", payload.Len())
	}
	return &c, nil
}

// WriteCheckpoint writes c to path atomically (envs/fsutil).
func WriteCheckpoint(path string, c *Checkpoint) error {
	return fsutil.WriteFileWith(path, c.Encode)
}

// ReadCheckpoint reads the checkpoint at path. Every error names the file;
// damage to the bytes wraps ErrBadCheckpoint and says what to do.
func ReadCheckpoint(path string) (*Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	c, err := DecodeCheckpoint(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return c, nil
}

// MarshalAlgorithm returns a's checkpoint in the file format (Encode of
// a.Checkpoint()), e.g. to compare two states byte for byte.
func MarshalAlgorithm(a Algorithm) ([]byte, error) {
	c, err := a.Checkpoint()
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := c.Encode(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// UnmarshalAlgorithm restores a from data in the file format.
func UnmarshalAlgorithm(a Algorithm, data []byte) error {
	c, err := DecodeCheckpoint(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return a.Restore(c)
}

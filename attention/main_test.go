package attention

import (
	"os"
	"testing"

	"github.com/commgraph/commgraph/attention/gemm"
)

// TestMain runs every test of the package on the fast GEMM backend of the
// build (vek by default, OpenBLAS with -tags openblas), as the trainer does.
func TestMain(m *testing.M) {
	gemm.Use()
	os.Exit(m.Run())
}

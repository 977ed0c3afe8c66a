package experiments

// Names the external tests (package experiments_test) use that the package
// does not export: the statistics behind the report, the run directory of a
// seed, one config key set from a TOML value, and the sweep's [k8s]
// defaults (checked against the Dockerfile).
var (
	Mean                  = meanOf
	StratifiedBootstrapCI = stratifiedBootstrapCI
	RunDir                = runDirOf
	SetKey                = setKey
)

type MetricsLineError = metricsLineError

func DefaultSweepK8s() K8sConfig { return defaultSweep().K8s }

// EncodeSummary returns the bytes of a summary.json holding s (with its
// format version and checksum), as a finished run writes it.
func EncodeSummary(s Summary) ([]byte, error) { return encodeSummary(&s) }

// DecodeSummary parses and checks the content of a summary.json.
var DecodeSummary = decodeSummary

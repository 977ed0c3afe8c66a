package experiments_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/commgraph/commgraph/experiments"
)

// The fields of a Kubernetes batch/v1 Job that the emitted manifest may use,
// written from the Kubernetes API reference (Job, JobSpec, PodSpec,
// Container, EnvVar, ResourceRequirements, Volume, VolumeMount,
// PodSecurityContext). Decoding with unknown fields disallowed catches a
// misspelled or misplaced key, and the Go types catch a wrong kind of value
// (a quoted number, a list for a map), which is what the API server would
// refuse. The k8s.io/api types themselves are used in .ci/k8scheck, a
// module of its own (run by .ci/run): measured on this machine, they add 17
// modules to go.mod and 45 MB, and the first test build took 116 s.
type k8sJob struct {
	APIVersion string        `json:"apiVersion"`
	Kind       string        `json:"kind"`
	Metadata   k8sObjectMeta `json:"metadata"`
	Spec       struct {
		CompletionMode       string `json:"completionMode"`
		Completions          *int32 `json:"completions"`
		Parallelism          *int32 `json:"parallelism"`
		BackoffLimitPerIndex *int32 `json:"backoffLimitPerIndex"`
		BackoffLimit         *int32 `json:"backoffLimit"`
		Template             struct {
			Metadata k8sObjectMeta `json:"metadata"`
			Spec     k8sPodSpec    `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

type k8sObjectMeta struct {
	Name      string            `json:"name"`
	Namespace string            `json:"namespace"`
	Labels    map[string]string `json:"labels"`
}

type k8sPodSpec struct {
	RestartPolicy   string `json:"restartPolicy"`
	SecurityContext *struct {
		RunAsNonRoot *bool  `json:"runAsNonRoot"`
		RunAsUser    *int64 `json:"runAsUser"`
		RunAsGroup   *int64 `json:"runAsGroup"`
		FSGroup      *int64 `json:"fsGroup"`
	} `json:"securityContext"`
	Volumes []struct {
		Name                  string `json:"name"`
		PersistentVolumeClaim *struct {
			ClaimName string `json:"claimName"`
			ReadOnly  bool   `json:"readOnly"`
		} `json:"persistentVolumeClaim"`
	} `json:"volumes"`
	Containers []struct {
		Name       string   `json:"name"`
		Image      string   `json:"image"`
		WorkingDir string   `json:"workingDir"`
		Command    []string `json:"command"`
		Args       []string `json:"args"`
		Env        []struct {
			Name      string `json:"name"`
			Value     string `json:"value"`
			ValueFrom *struct {
				FieldRef *struct {
					FieldPath string `json:"fieldPath"`
				} `json:"fieldRef"`
				ResourceFieldRef *struct {
					Resource string `json:"resource"`
				} `json:"resourceFieldRef"`
			} `json:"valueFrom"`
		} `json:"env"`
		Resources struct {
			Requests map[string]string `json:"requests"`
			Limits   map[string]string `json:"limits"`
		} `json:"resources"`
		VolumeMounts []struct {
			Name      string `json:"name"`
			MountPath string `json:"mountPath"`
		} `json:"volumeMounts"`
	} `json:"containers"`
}

// decodeJob parses an emitted manifest (the YAML subset it uses) and
// decodes it strictly into the Job fields above.
func decodeJob(t *testing.T, manifest string) k8sJob {
	t.Helper()
	doc := parseYAML(t, manifest)
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var j k8sJob
	if err := dec.Decode(&j); err != nil {
		t.Fatalf("manifest is not a batch/v1 Job: %v\n%s", err, manifest)
	}
	return j
}

var (
	dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	quantity     = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$`)
)

// TestK8sJobIsValid: the emitted Job decodes as a batch/v1 Indexed Job,
// runs one trial per index with the results on the volume claim, as the
// non-root user of the Dockerfile's image; a mount that does not hold the
// runs is refused, and a Job without a claim says that its results vanish.
func TestK8sJobIsValid(t *testing.T) {
	onVolume := strings.NewReplacer(`out_dir = "OUT"`, `out_dir = "runs"`, `mount_path = "OUT"`, `mount_path = "/work/runs"`)
	p := writeSweep(t, onVolume.Replace(sweepTOML))
	sw, err := experiments.LoadSweep(p)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := sw.EmitK8s(&b, 12, "configs/sweeps/x.toml"); err != nil {
		t.Fatal(err)
	}
	j := decodeJob(t, b.String())
	s := j.Spec
	if j.APIVersion != "batch/v1" || j.Kind != "Job" || s.CompletionMode != "Indexed" || *s.Completions != 12 || *s.Parallelism != 5 || s.BackoffLimitPerIndex == nil {
		t.Errorf("job header %+v", j)
	}
	if !dns1123Label.MatchString(j.Metadata.Name) || len(j.Metadata.Name) > 63 {
		t.Errorf("job name %q is not a DNS-1123 label", j.Metadata.Name)
	}
	pod := s.Template.Spec
	// Indexed Jobs with a per-index backoff need restartPolicy Never.
	if pod.RestartPolicy != "Never" || len(pod.Containers) != 1 {
		t.Fatalf("pod %+v", pod)
	}
	if sc := pod.SecurityContext; sc == nil || !*sc.RunAsNonRoot || *sc.RunAsUser != 65532 || *sc.FSGroup != 65532 {
		t.Errorf("security context %+v, want the image's user 65532 and fsGroup 65532", sc)
	}
	c := pod.Containers[0]
	if c.WorkingDir != "/work" || strings.Join(c.Command, " ") != "commgraph sweep configs/sweeps/x.toml --quiet --index $(JOB_COMPLETION_INDEX)" {
		t.Errorf("container runs %q in %s", c.Command, c.WorkingDir)
	}
	for _, q := range []map[string]string{c.Resources.Requests, c.Resources.Limits} {
		for k, v := range q {
			if !quantity.MatchString(v) {
				t.Errorf("resource %s = %q is not a quantity", k, v)
			}
		}
	}
	volumes := map[string]string{}
	for _, v := range pod.Volumes {
		if v.PersistentVolumeClaim != nil {
			volumes[v.Name] = v.PersistentVolumeClaim.ClaimName
		}
	}
	if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != "/work/runs" || volumes[c.VolumeMounts[0].Name] != "runs" {
		t.Errorf("mounts %+v of volumes %v: want claim runs at /work/runs (where out_dir = runs lands)", c.VolumeMounts, volumes)
	}
	if !strings.Contains(b.String(), "# Results: on the PersistentVolumeClaim runs at /work/runs") {
		t.Errorf("manifest does not say where the results go:\n%s", b.String())
	}

	// out_dir outside the mount: refused, naming the keys.
	p = writeSweep(t, strings.NewReplacer(`out_dir = "OUT"`, `out_dir = "results"`, `mount_path = "OUT"`, `mount_path = "/work/runs"`).Replace(sweepTOML))
	sw, _ = experiments.LoadSweep(p)
	if err := sw.EmitK8s(&b, 12, "x.toml"); err == nil || !strings.Contains(err.Error(), "k8s.mount_path") || !strings.Contains(err.Error(), "/work/results") {
		t.Errorf("runs outside the volume: %v", err)
	}
	// No claim: no volume, and a warning in the manifest.
	p = writeSweep(t, strings.Replace(sweepTOML, `volume_claim = "runs"`, `volume_claim = ""`, 1))
	sw, _ = experiments.LoadSweep(p)
	b.Reset()
	if err := sw.EmitK8s(&b, 12, "x.toml"); err != nil {
		t.Fatal(err)
	}
	if j := decodeJob(t, b.String()); len(j.Spec.Template.Spec.Volumes) != 0 || !strings.Contains(b.String(), "# WARNING: no k8s.volume_claim") {
		t.Errorf("a Job without a claim:\n%s", b.String())
	}
}

// TestDockerfileMatchesJob: the image the Dockerfile builds is what the
// emitted Job expects by default: the binary on the PATH under the default
// name, the working directory holding configs/, the non-root user of the
// Job's securityContext.
func TestDockerfileMatchesJob(t *testing.T) {
	f, err := os.Open("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stages [][]string // instructions per stage
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "FROM ") {
			stages = append(stages, nil)
		}
		if len(stages) > 0 {
			stages[len(stages)-1] = append(stages[len(stages)-1], line)
		}
	}
	if len(stages) < 2 {
		t.Fatalf("want a multi-stage Dockerfile, got %d stages", len(stages))
	}
	build, final := strings.Join(stages[0], "\n"), stages[len(stages)-1]
	if !strings.Contains(build, "CGO_ENABLED=0 go build") || !strings.Contains(build, "./cmd/commgraph") {
		t.Errorf("build stage does not build a static binary:\n%s", build)
	}
	d := experiments.DefaultSweepK8s()
	want := []string{
		"COPY --from=build /out/commgraph /usr/local/bin/" + d.Binary, // distroless puts /usr/local/bin on the PATH
		"WORKDIR " + d.WorkingDir,
		"USER 65532:65532",
	}
	for _, w := range want {
		found := false
		for _, l := range final {
			found = found || l == w
		}
		if !found {
			t.Errorf("final stage lacks %q:\n%s", w, strings.Join(final, "\n"))
		}
	}
	copied := false
	for _, l := range final {
		copied = copied || (strings.HasPrefix(l, "COPY") && strings.HasSuffix(l, " configs "+d.WorkingDir+"/configs"))
	}
	if !copied || !strings.HasPrefix(d.MountPath, d.WorkingDir+"/") || d.VolumeClaim != "commgraph-runs" {
		t.Errorf("configs copied %v; default mount %s, claim %s", copied, d.MountPath, d.VolumeClaim)
	}
	pvc, err := os.ReadFile("../deploy/k8s/pvc.yaml")
	if err != nil || !strings.Contains(string(pvc), "kind: PersistentVolumeClaim") || !strings.Contains(string(pvc), "name: "+d.VolumeClaim+"\n") {
		t.Errorf("deploy/k8s/pvc.yaml does not create the default claim %s: %v", d.VolumeClaim, err)
	}
}

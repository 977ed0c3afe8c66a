// Package k8scheck validates the Kubernetes Job that `commgraph sweep --emit
// k8s` writes against the real Kubernetes API types (k8s.io/api/batch/v1),
// decoded strictly: an unknown or misplaced field, a duplicate field or a
// value of the wrong kind (a quoted number, a bad resource quantity) fails.
// The manifests in deploy/k8s are decoded the same way into core/v1 and
// checked against the Job's defaults.
//
// It is a module of its own so that the commgraph module does not carry
// the Kubernetes API machinery (about 40 modules) for one check; it does
// not import commgraph either, but builds the binary from the repository
// and runs it as a user would, so the two modules never have to agree on
// versions. .ci/run runs it: cd .ci/k8scheck && go test ./...
package k8scheck

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
)

var (
	binary string // the commgraph binary built from the repository
	repo   string // the repository's root
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	_, file, _, _ := runtime.Caller(0)
	repo = filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	dir, err := os.MkdirTemp("", "k8scheck")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "commgraph")
	build := exec.Command("go", "build", "-o", binary, "./cmd/commgraph")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build ./cmd/commgraph: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// decodeStrict decodes one YAML manifest into a batch/v1 Job with the API
// machinery's strict serializer (what `kubectl apply --validate=strict`
// and the API server's field validation use): it checks apiVersion and
// kind against the scheme, and reports unknown and duplicate fields.
func decodeStrict(manifest []byte) (*batchv1.Job, error) {
	scheme := kruntime.NewScheme()
	if err := batchv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	s := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme,
		kjson.SerializerOptions{Yaml: true, Strict: true})
	obj, gvk, err := s.Decode(manifest, nil, nil)
	if err != nil {
		return nil, err
	}
	job, ok := obj.(*batchv1.Job)
	if !ok {
		return nil, fmt.Errorf("decoded a %v, not a batch/v1 Job", gvk)
	}
	return job, nil
}

// emit runs `commgraph sweep SWEEP --emit k8s --out - ARGS...` in dir and
// returns the manifest.
func emit(t *testing.T, dir, sweep string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"sweep", sweep, "--emit", "k8s", "--out", "-"}, args...)...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("commgraph sweep %s --emit k8s: %v\n%s", sweep, err, errb.String())
	}
	return out.Bytes()
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A base run (the synthetic environment: nothing to load) and a sweep of
// 3 x 2 trials whose [k8s] table sets every key to a value other than its
// default, so that a key the emitter drops or misplaces shows.
const baseTOML = `name = "k8sbase"
out_dir = "results"
seeds = [1]
[env]
kind = "synthetic"
[algorithm]
kind = "random"
[budget]
iterations = 2
`

const sweepTOML = `name = "K8s_Check"
base = "../base.toml"
seeds = [1, 2]
[grid]
"env.synthetic.space_seed" = [1, 2, 3]
[k8s]
image = "registry.example/commgraph:v9"
namespace = "dse"
parallelism = 4
cpu = "1500m"
memory = "3Gi"
backoff_limit_per_index = 5
working_dir = "/srv/cg"
volume_claim = "my-runs"
mount_path = "/srv/cg/results"
binary = "/usr/local/bin/commgraph"
`

// TestEmittedJobMatchesAPITypes: every field the emitter writes decodes
// into the Kubernetes types and carries the sweep's value.
func TestEmittedJobMatchesAPITypes(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "configs", "base.toml"), baseTOML)
	writeFile(t, filepath.Join(dir, "configs", "sweeps", "check.toml"), sweepTOML)
	manifest := emit(t, dir, "configs/sweeps/check.toml", "--set", "budget.iterations=3")
	job, err := decodeStrict(manifest)
	if err != nil {
		t.Fatalf("the emitted Job is not a valid batch/v1 Job: %v\n%s", err, manifest)
	}

	if job.Name != "k8s-check" || job.Namespace != "dse" {
		t.Errorf("metadata name %q namespace %q, want k8s-check in dse", job.Name, job.Namespace)
	}
	s := job.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
		t.Errorf("completionMode %v, want Indexed", s.CompletionMode)
	}
	if s.Completions == nil || *s.Completions != 6 {
		t.Errorf("completions %v, want 6 (3 grid points x 2 seeds)", s.Completions)
	}
	if s.Parallelism == nil || *s.Parallelism != 4 {
		t.Errorf("parallelism %v, want 4", s.Parallelism)
	}
	if s.BackoffLimitPerIndex == nil || *s.BackoffLimitPerIndex != 5 {
		t.Errorf("backoffLimitPerIndex %v, want 5", s.BackoffLimitPerIndex)
	}
	pod := s.Template.Spec
	// A per-index backoff limit requires restartPolicy Never.
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %q, want Never", pod.RestartPolicy)
	}
	if sc := pod.SecurityContext; sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
		sc.RunAsUser == nil || *sc.RunAsUser != 65532 || sc.FSGroup == nil || *sc.FSGroup != 65532 {
		t.Errorf("securityContext %+v, want the Dockerfile's non-root user 65532 and fsGroup 65532", sc)
	}
	if len(pod.Volumes) != 1 || pod.Volumes[0].PersistentVolumeClaim == nil ||
		pod.Volumes[0].PersistentVolumeClaim.ClaimName != "my-runs" {
		t.Fatalf("volumes %+v, want one PersistentVolumeClaim my-runs", pod.Volumes)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.Image != "registry.example/commgraph:v9" || c.WorkingDir != "/srv/cg" {
		t.Errorf("container image %q workingDir %q", c.Image, c.WorkingDir)
	}
	want := []string{"/usr/local/bin/commgraph", "sweep", "configs/sweeps/check.toml",
		"--set", "budget.iterations=3", "--quiet", "--index", "$(JOB_COMPLETION_INDEX)"}
	if strings.Join(c.Command, "\x00") != strings.Join(want, "\x00") || len(c.Args) != 0 {
		t.Errorf("container command %q args %q, want command %q", c.Command, c.Args, want)
	}
	if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].Name != pod.Volumes[0].Name || c.VolumeMounts[0].MountPath != "/srv/cg/results" {
		t.Errorf("volumeMounts %+v, want volume %q at /srv/cg/results", c.VolumeMounts, pod.Volumes[0].Name)
	}
	for name, q := range map[string]corev1.ResourceList{"requests": c.Resources.Requests, "limits": c.Resources.Limits} {
		if cpu := q[corev1.ResourceCPU]; cpu.Cmp(resource.MustParse("1.5")) != 0 {
			t.Errorf("resources.%s.cpu %s, want 1500m", name, cpu.String())
		}
		if mem := q[corev1.ResourceMemory]; mem.Cmp(resource.MustParse("3Gi")) != 0 {
			t.Errorf("resources.%s.memory %s, want 3Gi", name, mem.String())
		}
	}
	index := false
	for _, e := range c.Env {
		if e.Name == "JOB_COMPLETION_INDEX" {
			index = e.ValueFrom != nil && e.ValueFrom.FieldRef != nil &&
				e.ValueFrom.FieldRef.FieldPath == "metadata.annotations['batch.kubernetes.io/job-completion-index']"
		}
	}
	if !index {
		t.Errorf("env %+v does not take JOB_COMPLETION_INDEX from the completion-index annotation", c.Env)
	}
	if job.Labels["commgraph/sweep"] != "k8s-check" || s.Template.Labels["commgraph/sweep"] != "k8s-check" {
		t.Errorf("labels %v / %v", job.Labels, s.Template.Labels)
	}
}

// TestEmittedJobWithoutClaim: with no volume claim the Job has no volume
// and no mount, and is still a valid Job.
func TestEmittedJobWithoutClaim(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "configs", "base.toml"), baseTOML)
	noClaim := strings.NewReplacer(`volume_claim = "my-runs"`, `volume_claim = ""`, `parallelism = 4`, `parallelism = 50`).Replace(sweepTOML)
	writeFile(t, filepath.Join(dir, "configs", "sweeps", "check.toml"), noClaim)
	manifest := emit(t, dir, "configs/sweeps/check.toml")
	job, err := decodeStrict(manifest)
	if err != nil {
		t.Fatalf("%v\n%s", err, manifest)
	}
	pod := job.Spec.Template.Spec
	if len(pod.Volumes) != 0 || len(pod.Containers) != 1 || len(pod.Containers[0].VolumeMounts) != 0 {
		t.Errorf("volumes %+v mounts %+v, want none", pod.Volumes, pod.Containers)
	}
	// Never more pods at once than there are trials.
	if p := job.Spec.Parallelism; p == nil || *p != 6 {
		t.Errorf("parallelism %v, want 6 (the number of trials)", p)
	}
}

// TestShippedSweepsEmitValidJobs: every shipped sweep with a [k8s] table
// emits a valid Job, run from a copy of configs/ laid out as in the image.
func TestShippedSweepsEmitValidJobs(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(filepath.Join(dir, "configs"), os.DirFS(filepath.Join(repo, "configs"))); err != nil {
		t.Fatal(err)
	}
	sweeps, _ := filepath.Glob(filepath.Join(dir, "configs", "sweeps", "*.toml"))
	n := 0
	for _, p := range sweeps {
		text, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(text, []byte("[k8s]")) {
			continue
		}
		n++
		rel := "configs/sweeps/" + filepath.Base(p)
		t.Run(filepath.Base(p), func(t *testing.T) {
			manifest := emit(t, dir, rel)
			job, err := decodeStrict(manifest)
			if err != nil {
				t.Fatalf("%v\n%s", err, manifest)
			}
			s := job.Spec
			if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion || s.Completions == nil || *s.Completions < 1 ||
				s.Template.Spec.RestartPolicy != corev1.RestartPolicyNever || len(s.Template.Spec.Containers) != 1 {
				t.Errorf("not an Indexed Job of one container with restartPolicy Never: %+v", s)
			}
			if c := s.Template.Spec.Containers[0]; c.Image == "" || len(c.Command) < 3 || c.Command[2] != rel {
				t.Errorf("container %q runs %q, want the sweep %s", c.Image, c.Command, rel)
			}
		})
	}
	if n == 0 {
		t.Fatal("no shipped sweep has a [k8s] table")
	}
}

// TestStrictDecodingRefusesBadFields: the check itself catches what it is
// there for (so a lenient decoder cannot make the tests above pass).
func TestStrictDecodingRefusesBadFields(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "configs", "base.toml"), baseTOML)
	writeFile(t, filepath.Join(dir, "configs", "sweeps", "check.toml"), sweepTOML)
	good := string(emit(t, dir, "configs/sweeps/check.toml"))
	if _, err := decodeStrict([]byte(good)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, from, to, want string }{
		{"unknown field", `completionMode: "Indexed"`, `completionsMode: "Indexed"`, `unknown field "spec.completionsMode"`},
		// image belongs to a container, not to the pod spec.
		{"misplaced field", `      restartPolicy: "Never"`, `      restartPolicy: "Never"` + "\n      image: \"x\"", `unknown field "spec.template.spec.image"`},
		{"duplicate field", `      restartPolicy: "Never"`, `      restartPolicy: "Never"` + "\n      restartPolicy: \"Never\"", `key "restartPolicy" already set`},
		{"quoted number", `completions: 6`, `completions: "6"`, "completions"},
		{"bad quantity", `"1500m"`, `"1.5 cores"`, "quantities must match"},
		{"wrong kind", `kind: "Job"`, `kind: "Pod"`, `no kind "Pod" is registered`},
	} {
		bad := strings.Replace(good, c.from, c.to, 1)
		if bad == good {
			t.Fatalf("%s: %q is not in the manifest:\n%s", c.name, c.from, good)
		}
		if _, err := decodeStrict([]byte(bad)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// TestDeployManifests: the manifests in deploy/k8s decode strictly into
// their API types, and they agree with the Job's defaults: the claim that
// pvc.yaml creates is the default k8s.volume_claim, and the results pod
// mounts it where the Job writes (k8s.mount_path), as the image's user.
func TestDeployManifests(t *testing.T) {
	scheme := kruntime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	s := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme,
		kjson.SerializerOptions{Yaml: true, Strict: true})
	decode := func(name string) kruntime.Object {
		data, err := os.ReadFile(filepath.Join(repo, "deploy", "k8s", name))
		if err != nil {
			t.Fatal(err)
		}
		obj, _, err := s.Decode(data, nil, nil)
		if err != nil {
			t.Fatalf("deploy/k8s/%s: %v", name, err)
		}
		return obj
	}
	pvc, ok := decode("pvc.yaml").(*corev1.PersistentVolumeClaim)
	if !ok {
		t.Fatal("deploy/k8s/pvc.yaml is not a PersistentVolumeClaim")
	}
	// The Job's defaults, as emitted for a sweep without a [k8s] table.
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "configs", "base.toml"), strings.Replace(baseTOML, `out_dir = "results"`, `out_dir = "runs"`, 1))
	writeFile(t, filepath.Join(dir, "configs", "sweeps", "plain.toml"), "name = \"plain\"\nbase = \"../base.toml\"\nseeds = [1, 2]\n")
	job, err := decodeStrict(emit(t, dir, "configs/sweeps/plain.toml"))
	if err != nil {
		t.Fatal(err)
	}
	jp := job.Spec.Template.Spec
	if len(jp.Volumes) != 1 || jp.Volumes[0].PersistentVolumeClaim == nil || len(jp.Containers) != 1 || len(jp.Containers[0].VolumeMounts) != 1 {
		t.Fatalf("the default Job has no claim mounted: %+v", jp)
	}
	claim, mount := jp.Volumes[0].PersistentVolumeClaim.ClaimName, jp.Containers[0].VolumeMounts[0].MountPath
	if pvc.Name != claim {
		t.Errorf("deploy/k8s/pvc.yaml creates %q, the Job mounts the claim %q", pvc.Name, claim)
	}
	if q := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; q.IsZero() || len(pvc.Spec.AccessModes) == 0 {
		t.Errorf("pvc.yaml requests storage %s with access modes %v", q.String(), pvc.Spec.AccessModes)
	}
	pod, ok := decode("fetch-results.yaml").(*corev1.Pod)
	if !ok {
		t.Fatal("deploy/k8s/fetch-results.yaml is not a Pod")
	}
	if len(pod.Spec.Volumes) != 1 || pod.Spec.Volumes[0].PersistentVolumeClaim == nil || pod.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != claim {
		t.Errorf("fetch-results.yaml volumes %+v, want the claim %q", pod.Spec.Volumes, claim)
	}
	if len(pod.Spec.Containers) != 1 || len(pod.Spec.Containers[0].VolumeMounts) != 1 || pod.Spec.Containers[0].VolumeMounts[0].MountPath != mount {
		t.Errorf("fetch-results.yaml mounts %+v, want the claim at %s (where the Job writes)", pod.Spec.Containers, mount)
	}
	if sc := pod.Spec.SecurityContext; sc == nil || sc.RunAsUser == nil || jp.SecurityContext == nil || jp.SecurityContext.RunAsUser == nil || *sc.RunAsUser != *jp.SecurityContext.RunAsUser {
		t.Errorf("fetch-results.yaml runs as %+v, the Job as %+v", sc, jp.SecurityContext)
	}
}

package experiments

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// recipeBlock is one code block of a recipe page that names its file.
type recipeBlock struct {
	doc, lang, path, body string
	line                  int
}

// recipeBlocks returns the ```go and ```toml blocks of a Markdown page whose
// first line is "// file: PATH" or "# file: PATH".
func recipeBlocks(t *testing.T, doc string) []recipeBlock {
	t.Helper()
	f, err := os.Open(doc)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []recipeBlock
	var cur *recipeBlock
	var body strings.Builder
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && (line == "```go" || line == "```toml"):
			cur = &recipeBlock{doc: filepath.Base(doc), lang: strings.TrimPrefix(line, "```"), line: n}
			body.Reset()
		case cur != nil && line == "```":
			cur.body = body.String()
			first, _, _ := strings.Cut(cur.body, "\n")
			for _, p := range []string{"// file: ", "# file: "} {
				if path, ok := strings.CutPrefix(first, p); ok {
					cur.path = path
				}
			}
			if cur.path != "" {
				out = append(out, *cur)
			}
			cur = nil
		case cur != nil:
			body.WriteString(line)
			body.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRecipes keeps docs/add-environment.md and docs/add-algorithm.md true:
// their Go blocks are laid into the module through a build overlay (nothing
// is written to the source tree), their tests run, and each config they
// ship is decoded, built and run for one iteration with the kinds they
// register.
func TestRecipes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the recipes with the go command")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	overlay := map[string]string{}
	pkgs := map[string]bool{"./experiments": true}
	var configs []recipeBlock
	for _, doc := range []string{"add-environment.md", "add-algorithm.md"} {
		blocks := recipeBlocks(t, filepath.Join(root, "docs", doc))
		if len(blocks) < 3 {
			t.Fatalf("%s: only %d code blocks name their file", doc, len(blocks))
		}
		for _, b := range blocks {
			if b.lang == "toml" {
				configs = append(configs, b)
				continue
			}
			target := filepath.Join(root, filepath.FromSlash(b.path))
			if _, err := os.Stat(target); err == nil {
				t.Fatalf("%s:%d: %s exists in the tree; a recipe must add files, not replace them", b.doc, b.line, b.path)
			}
			// Named after the block, so compile errors point at the page.
			src := filepath.Join(tmp, strings.TrimSuffix(b.doc, ".md")+"_line"+strconv.Itoa(b.line)+"_"+filepath.Base(b.path))
			if err := os.WriteFile(src, []byte(b.body), 0o644); err != nil {
				t.Fatal(err)
			}
			overlay[target] = src
			pkgs["./"+filepath.ToSlash(filepath.Dir(b.path))] = true
		}
	}
	// One generated test decodes, builds and runs every shipped config.
	var gen strings.Builder
	gen.WriteString("package experiments_test\n\nimport (\n\t\"context\"\n\t\"testing\"\n\n\t\"github.com/commgraph/commgraph/experiments\"\n)\n\n")
	gen.WriteString("func TestRecipeGeneratedConfigs(t *testing.T) {\n")
	for _, c := range configs {
		fmt.Fprintf(&gen, "\tt.Run(%q, func(t *testing.T) {\n", c.path)
		fmt.Fprintf(&gen, "\t\tcfg, err := experiments.DecodeConfig(%q, []byte(%q))\n", c.doc+":"+c.path, c.body)
		gen.WriteString("\t\tif err != nil {\n\t\t\tt.Fatal(err)\n\t\t}\n")
		gen.WriteString("\t\tcfg.OutDir = t.TempDir()\n\t\tcfg.Log.Timing = false\n\t\tcfg.Budget.Iterations = 1\n\t\tcfg.Eval.Episodes = 1\n")
		gen.WriteString("\t\tfor _, kv := range []string{\"algorithm.commformer.embed_dim=8\", \"algorithm.commformer.num_envs=2\", \"algorithm.commformer.rollout_steps=10\", \"algorithm.commformer.epochs=1\"} {\n")
		gen.WriteString("\t\t\tif err := experiments.ApplyOverride(&cfg, kv); err != nil {\n\t\t\t\tt.Fatal(err)\n\t\t\t}\n\t\t}\n")
		gen.WriteString("\t\tsums, err := experiments.Run(context.Background(), cfg, experiments.RunOptions{})\n")
		gen.WriteString("\t\tif err != nil || len(sums) != 1 || sums[0].Iterations != 1 {\n\t\t\tt.Fatalf(\"run: %v %+v\", err, sums)\n\t\t}\n")
		gen.WriteString("\t})\n")
	}
	gen.WriteString("}\n")
	genSrc := filepath.Join(tmp, "gen_test.go")
	if err := os.WriteFile(genSrc, []byte(gen.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	overlay[filepath.Join(root, "experiments", "zz_recipes_generated_test.go")] = genSrc
	ov, _ := json.Marshal(map[string]any{"Replace": overlay})
	ovPath := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(ovPath, ov, 0o644); err != nil {
		t.Fatal(err)
	}
	// Compile the test binaries (the overlay's new packages have no
	// directory to run in), then run them from a scratch directory.
	bin := filepath.Join(tmp, "bin") + string(filepath.Separator)
	args := []string{"test", "-c", "-vet=off", "-overlay", ovPath, "-o", bin}
	n := len(args)
	for p := range pkgs {
		args = append(args, p)
	}
	slices.Sort(args[n:])
	cmd := exec.Command(goTool, args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s:\n%s", strings.Join(args, " "), out)
	}
	tests, _ := filepath.Glob(filepath.Join(bin, "*.test"))
	var out []byte
	for _, tb := range tests {
		run := exec.Command(tb, "-test.v", "-test.count=1", "-test.run", "^(TestContract|TestResumeExactly|TestRecipeGeneratedConfigs)$")
		run.Dir = tmp
		o, err := run.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", filepath.Base(tb), err, o)
		}
		out = append(out, o...)
	}
	for _, name := range []string{"TestContract", "TestResumeExactly", "TestRecipeGeneratedConfigs"} {
		if !strings.Contains(string(out), "--- PASS: "+name+" ") {
			t.Errorf("%s did not run and pass:\n%s", name, out)
		}
	}
	if len(configs) < 3 {
		t.Errorf("only %d configs in the recipes", len(configs))
	}
}

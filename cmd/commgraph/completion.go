package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

func init() {
	register("completion", "shell completion script: bash, zsh or fish", runCompletion)
}

// The scripts ask the binary for candidates (commgraph completion
// __complete WORDS... CURRENT), so they always match its commands and
// flags; when it offers none, the shell completes file names.
const bashCompletion = `# bash completion for commgraph; load with: source <(commgraph completion bash)
_commgraph() {
    local cur="${COMP_WORDS[COMP_CWORD]}"
    local IFS=$'\n'
    COMPREPLY=($(compgen -W "$(commgraph completion __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)" -- "$cur"))
}
complete -o default -F _commgraph commgraph
`

const zshCompletion = `#compdef commgraph
# zsh completion for commgraph; install with: commgraph completion zsh > "${fpath[1]}/_commgraph"
_commgraph() {
  local -a cands
  cands=("${(@f)$(commgraph completion __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
  if (( ${#cands} )) && [[ -n "${cands[1]}" ]]; then
    compadd -a cands
  else
    _files
  fi
}
if [[ "${funcstack[1]}" == _commgraph ]]; then
  _commgraph "$@"
else
  compdef _commgraph commgraph
fi
`

const fishCompletion = `# fish completion for commgraph; install with: commgraph completion fish > ~/.config/fish/completions/commgraph.fish
function __commgraph_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    set -l cands (commgraph completion __complete $words[2..-1] "$cur" 2>/dev/null)
    if test (count $cands) -gt 0
        printf '%s\n' $cands
    else
        __fish_complete_path "$cur"
    end
end
complete -c commgraph -f -a '(__commgraph_complete)'
`

func runCompletion(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "__complete" {
		for _, c := range completeWords(args[1:]) {
			fmt.Fprintln(stdout, c)
		}
		return nil
	}
	scripts := map[string]string{"bash": bashCompletion, "zsh": zshCompletion, "fish": fishCompletion}
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fmt.Fprintln(stderr, "usage: commgraph completion bash|zsh|fish")
		return flag.ErrHelp
	}
	if len(args) != 1 || scripts[args[0]] == "" {
		return usageErrorf("want one shell: bash, zsh or fish (got %q)", args)
	}
	_, err := io.WriteString(stdout, scripts[args[0]])
	return err
}

// completeWords returns the completions of the last word of a command line
// (the words after "commgraph", the last one being completed, possibly
// empty): subcommands, the flags of the command (as --name), or the shells
// of completion; none when a file name is expected.
func completeWords(words []string) []string {
	if len(words) == 0 {
		words = []string{""}
	}
	cur := words[len(words)-1]
	m := commands
	var leaf *command
	var path []string
	for _, w := range words[:len(words)-1] {
		c := m[w]
		if c == nil {
			return nil // not a command: nothing to offer
		}
		path = append(path, w)
		if len(c.sub) == 0 {
			leaf = c
			break
		}
		m = c.sub
	}
	var cands []string
	switch {
	case leaf == nil:
		for name := range m {
			if !strings.HasPrefix(name, "__") {
				cands = append(cands, name)
			}
		}
	case strings.HasPrefix(cur, "-"):
		cands = commandFlags(leaf)
	case leaf.name == "completion" && len(words) == len(path)+1:
		cands = []string{"bash", "zsh", "fish"}
	}
	var out []string
	for _, c := range cands {
		if strings.HasPrefix(c, cur) {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

// commandFlags lists a command's flags as --name, read from its own --help
// (the flag package's "  -name ..." lines), so the list cannot drift.
func commandFlags(c *command) []string {
	if c.run == nil {
		return nil
	}
	var help bytes.Buffer
	_ = c.run([]string{"--help"}, io.Discard, &help)
	var out []string
	sc := bufio.NewScanner(&help)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "  -") {
			continue
		}
		name := strings.Fields(strings.TrimPrefix(line, "  -"))[0]
		out = append(out, "--"+name)
	}
	return out
}

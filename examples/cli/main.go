// Command npa is a command-line client for North American area codes
// (NPAs), in a container: `stack run cli -- -u KEY -p SECRET listNPAs`.
//
// Exit status: 0 success, 1 an area code or number not found or invalid,
// 2 usage error (no credentials, unknown command).
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Exit statuses.
const (
	exitOK       = 0
	exitNotFound = 1
	exitUsage    = 2
)

const usage = `Usage: npa -u KEY -p SECRET COMMAND [ARGS]

Commands:
  listNPAs [STATE]   list the area codes, of one state if given (e.g. NY)
  lookup NPA...      say where each area code is; exit 1 if one is unknown
  check              read phone numbers from stdin, one a line, and check each;
                     exit 1 if one is invalid

Flags:
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("npa", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors and help are printed below, each once
	key := fs.String("u", "", "API `KEY`")
	secret := fs.String("p", "", "API `SECRET`")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return exitOK
		}
		fmt.Fprintf(stderr, "npa: %v (npa --help for usage)\n", err)
		return exitUsage
	}
	if *key == "" || *secret == "" {
		fmt.Fprintln(stderr, "npa: missing credentials: pass -u KEY -p SECRET (npa --help for usage)")
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "npa: missing command: listNPAs, lookup or check (npa --help for usage)")
		return exitUsage
	}
	cmd, rest := fs.Arg(0), fs.Args()[1:]
	switch cmd {
	case "listNPAs":
		return listNPAs(rest, stdout, stderr)
	case "lookup":
		return lookup(rest, stdout, stderr)
	case "check":
		return check(stdin, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "npa: unknown command %q: use listNPAs, lookup or check (npa --help for usage)\n", cmd)
		return exitUsage
	}
}

func listNPAs(args []string, stdout, stderr io.Writer) int {
	if len(args) > 1 {
		fmt.Fprintln(stderr, "npa: listNPAs takes at most one STATE")
		return exitUsage
	}
	var state string
	if len(args) == 1 {
		state = strings.ToUpper(args[0])
	}
	var codes []string
	for npa, st := range npas {
		if state == "" || st == state {
			codes = append(codes, npa)
		}
	}
	if len(codes) == 0 {
		fmt.Fprintf(stderr, "npa: no area codes for state %q\n", state)
		return exitNotFound
	}
	slices.Sort(codes)
	for _, npa := range codes {
		fmt.Fprintf(stdout, "%s %s\n", npa, npas[npa])
	}
	return exitOK
}

func lookup(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "npa: lookup needs at least one area code")
		return exitUsage
	}
	code := exitOK
	for _, npa := range args {
		st, ok := npas[npa]
		if !ok {
			fmt.Fprintf(stderr, "npa: unknown area code %q\n", npa)
			code = exitNotFound
			continue
		}
		fmt.Fprintf(stdout, "%s %s\n", npa, st)
	}
	return code
}

func check(stdin io.Reader, stdout, stderr io.Writer) int {
	code := exitOK
	sc := bufio.NewScanner(stdin)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		st, err := checkNumber(line)
		if err != nil {
			fmt.Fprintf(stdout, "%s invalid: %v\n", line, err)
			code = exitNotFound
			continue
		}
		fmt.Fprintf(stdout, "%s valid %s\n", line, st)
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(stderr, "npa: reading stdin:", err)
		return exitNotFound
	}
	return code
}

// checkNumber validates a North American number (+1 optional, separators
// ignored) and returns its area code's state.
func checkNumber(s string) (string, error) {
	var digits []byte
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, byte(r))
		case strings.ContainsRune("+-.() ", r):
		default:
			return "", fmt.Errorf("unexpected %q", r)
		}
	}
	if len(digits) == 11 && digits[0] == '1' {
		digits = digits[1:]
	}
	if len(digits) != 10 {
		return "", fmt.Errorf("%d digits, want 10", len(digits))
	}
	if digits[3] < '2' {
		return "", fmt.Errorf("exchange %s cannot start with 0 or 1", digits[3:6])
	}
	st, ok := npas[string(digits[:3])]
	if !ok {
		return "", fmt.Errorf("unknown area code %s", digits[:3])
	}
	return st, nil
}

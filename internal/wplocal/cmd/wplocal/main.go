// Command wplocal runs an offline plan's WordPress tier on this machine
// with Debian's WordPress, PHP, Apache and MariaDB, and checks it as its
// users would use it (scripts/wordpress.sh, `make wordpress`):
//
//	go run ./cmd/plan --stack dev --format json > plan.json
//	go run ./internal/wplocal/cmd/wplocal --plan plan.json
//
// Its last line is the result, for example
//
//	wordpress: tasks=3 authenticated=24/24 restart=kept tls=required install=protected
//
// Exit status: 0 when every value is the one a working site has, 1 when
// one is not, 2 when the run could not be made.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/nequi-platform/wordpress-ecs/internal/wplocal"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wplocal", flag.ContinueOnError)
	fs.SetOutput(stderr)
	planFile := fs.String("plan", "", "the JSON of `go run ./cmd/plan --stack <stack> --format json` (- for standard input)")
	work := fs.String("work", "", "directory for the run's files and logs (default: a new temporary directory, removed afterwards)")
	keep := fs.Bool("keep", false, "keep the run's directory and logs")
	var drop []string
	fs.Func("drop", "remove a variable from the container definition before running (repeatable), e.g. WORDPRESS_NONCE_SALT", func(s string) error {
		drop = append(drop, s)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *planFile == "" {
		fmt.Fprintln(stderr, "wplocal: --plan is required: save one with `go run ./cmd/plan --stack dev --format json > plan.json`")
		return 2
	}
	in := os.Stdin
	if *planFile != "-" {
		f, err := os.Open(*planFile)
		if err != nil {
			fmt.Fprintf(stderr, "wplocal: %v\n", err)
			return 2
		}
		defer f.Close()
		in = f
	}
	p, err := wplocal.ReadPlan(in)
	if err != nil {
		fmt.Fprintf(stderr, "wplocal: %v\n", err)
		return 2
	}
	spec, err := wplocal.NewSpec(p)
	if err != nil {
		fmt.Fprintf(stderr, "wplocal: stack %s: %v\n", p.Stack, err)
		return 2
	}
	for _, v := range drop {
		spec.Container = spec.Container.Without(v)
		fmt.Fprintf(stdout, "  without %s in the container definition\n", v)
	}
	dir := *work
	if dir == "" {
		if dir, err = os.MkdirTemp("", "wordpress-local-"); err != nil {
			fmt.Fprintf(stderr, "wplocal: %v\n", err)
			return 2
		}
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	start := time.Now()
	fmt.Fprintf(stdout, "wordpress: stack %s, %d tasks of %s, in %s\n", spec.Stack, spec.DesiredCount, spec.Container.Image, dir)
	res, err := wplocal.Run(ctx, spec, wplocal.Options{Work: dir, Log: stdout})
	fmt.Fprintf(stdout, "wordpress: core-updates=%s file-edit=%s upload-limit=%s wp-cron-calls=%d (%s)\n",
		orUnknown(res.Settings.CoreUpdates), orUnknown(res.Settings.FileEdit), orUnknown(res.Settings.UploadLimit), res.WPCronCalls, time.Since(start).Round(time.Second))
	if err != nil {
		fmt.Fprintf(stdout, "wordpress: %s\n", strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	fmt.Fprintln(stdout, res.Line())
	if err != nil || !res.OK(spec.DesiredCount) {
		return 1
	}
	return 0
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// Package testenv gives tests the local AWS pieces they run against: a real
// DynamoDB (dynalite from npm) on 127.0.0.1.
package testenv

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// TB is the part of testing.TB the helpers use.
type TB interface {
	Helper()
	Skipf(format string, args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
}

var (
	dynOnce     sync.Once
	dynEndpoint string
	dynErr      error
	dynCmd      *exec.Cmd
)

// DynamoDB returns the endpoint of a DynamoDB-compatible server: the
// DYNAMODB_ENDPOINT environment variable when set, else a dynalite started
// from node_modules (found by walking up to go.mod) on a free port, shared by
// the whole test binary and stopped by Cleanup (call it from TestMain).
// When neither is possible the test is skipped with the reason, unless
// CI=true, where it fails: CI must not silently skip the integration tests.
func DynamoDB(t TB) string {
	t.Helper()
	if ep := os.Getenv("DYNAMODB_ENDPOINT"); ep != "" {
		return ep
	}
	if _, err := TryDynamoDB(); err != nil {
		msg := fmt.Sprintf("no DynamoDB for this test: %v (set DYNAMODB_ENDPOINT or run `npm install` at the repository root)", err)
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s", msg)
		}
		t.Skipf("%s", msg)
	}
	return dynEndpoint
}

// TryDynamoDB is DynamoDB without the testing: it returns the endpoint, or
// why there is none.
func TryDynamoDB() (string, error) {
	if ep := os.Getenv("DYNAMODB_ENDPOINT"); ep != "" {
		return ep, nil
	}
	dynOnce.Do(func() { dynEndpoint, dynErr = startDynalite() })
	return dynEndpoint, dynErr
}

// Cleanup stops the dynalite started by DynamoDB, if any.
func Cleanup() {
	if dynCmd != nil && dynCmd.Process != nil {
		_ = dynCmd.Process.Kill()
		_ = dynCmd.Wait()
		dynCmd = nil
	}
}

// Main runs the tests of a package and then stops what they started; use it
// as `func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }`.
func Main(m interface{ Run() int }) int {
	defer Cleanup()
	return m.Run()
}

// CleanupM wraps m so that Run stops what the tests started, for runners
// that call m.Run and exit themselves (testscript.Main).
func CleanupM(m interface{ Run() int }) interface{ Run() int } { return cleanupM{m} }

type cleanupM struct{ m interface{ Run() int } }

func (c cleanupM) Run() int { return Main(c.m) }

// RepoRoot returns the directory holding go.mod, walking up from the
// working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}

func startDynalite() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(root, "node_modules", ".bin", "dynalite")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("dynalite not installed at %s", bin)
	}
	port, err := freePort()
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	cmd := exec.Command(bin, "--host", "127.0.0.1", "--port", strconv.Itoa(port), "--createTableMs", "50")
	// Not the test binary's stderr: go test waits for every holder of its
	// output to close it. Parent death kills dynalite where supported.
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	cmd.SysProcAttr = dieWithParent()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start dynalite: %w", err)
	}
	go func() { // drain until dynalite exits (Cleanup kills it)
		s := bufio.NewScanner(stdout)
		for s.Scan() {
		}
	}()
	dynCmd = cmd
	ep := "http://127.0.0.1:" + strconv.Itoa(port)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		resp, err := http.Get(ep)
		if err == nil {
			resp.Body.Close()
			return ep, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	Cleanup()
	return "", fmt.Errorf("dynalite did not answer on %s within 20s: %s", ep, errOut.String())
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

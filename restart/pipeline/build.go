package pipeline

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Artifact is the Lambda deployment package: a zip holding one executable,
// bootstrap, as the provided.al2023 runtime runs it.
type Artifact struct {
	// Path is the zip file.
	Path string
	// SHA256 is the zip's SHA-256 in base64, the form Lambda reports as
	// CodeSha256 and takes as source_code_hash.
	SHA256 string
	// Size is the zip's size in bytes.
	Size int64
	// BuildTime is how long the build took.
	BuildTime time.Duration
}

// LambdaPackage is the Go package of the functions' bootstrap.
const LambdaPackage = "./cmd/restart-lambda"

// zipTime is every archive entry's modification time: fixed, so that the
// same binary always gives the same zip (1980-01-01 is the earliest time
// a zip's MS-DOS date field can hold).
var zipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

var (
	buildMu    sync.Mutex
	buildCache = map[string]Artifact{}
)

// BuildLambda compiles the functions' bootstrap for Lambda's arm64
// provided.al2023 runtime from the module at moduleDir and packs it into
// moduleDir/bin/lambda/restart-lambda-arm64-<sources key>.zip.
//
// The build is reproducible: no cgo, -trimpath, no build id or VCS stamp,
// stripped symbols, and a zip with fixed timestamps and modes, so that
// unchanged code gives a byte-identical archive and `pulumi preview` shows
// no diff. Unchanged sources reuse the archive already built; within one
// process the first result is reused.
func BuildLambda(ctx context.Context, moduleDir string) (Artifact, error) {
	buildMu.Lock()
	defer buildMu.Unlock()
	if a, ok := buildCache[moduleDir]; ok {
		return a, nil
	}
	start := time.Now()
	goTool, err := exec.LookPath("go")
	if err != nil {
		return Artifact{}, fmt.Errorf("build the restart Lambda: the Go toolchain is not on PATH: %w", err)
	}
	key, err := sourceKey(ctx, goTool, moduleDir)
	if err != nil {
		return Artifact{}, fmt.Errorf("build the restart Lambda: %w", err)
	}
	dir := filepath.Join(moduleDir, "bin", "lambda")
	path := filepath.Join(dir, "restart-lambda-arm64-"+key+".zip")
	zipped, err := os.ReadFile(path)
	if err != nil {
		if zipped, err = build(ctx, goTool, moduleDir); err != nil {
			return Artifact{}, err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return Artifact{}, fmt.Errorf("pack the restart Lambda: %w", err)
		}
		if err := writeAtomic(path, zipped); err != nil {
			return Artifact{}, fmt.Errorf("pack the restart Lambda: %w", err)
		}
		prune(dir, path)
	}
	sum := sha256.Sum256(zipped)
	a := Artifact{Path: path, SHA256: base64.StdEncoding.EncodeToString(sum[:]), Size: int64(len(zipped)), BuildTime: time.Since(start)}
	buildCache[moduleDir] = a
	return a, nil
}

// buildFlags are the flags of the reproducible build.
var buildFlags = []string{"-trimpath", "-buildvcs=false", "-tags", "lambda.norpc", "-ldflags=-s -w -buildid="}

// buildEnv is the target: Lambda's arm64 (Graviton) runtime, a static
// binary.
var buildEnv = []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64"}

func build(ctx context.Context, goTool, moduleDir string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "restart-lambda-")
	if err != nil {
		return nil, fmt.Errorf("build the restart Lambda: %w", err)
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bootstrap")
	args := append(append([]string{"build"}, buildFlags...), "-o", bin, LambdaPackage)
	cmd := exec.CommandContext(ctx, goTool, args...)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), buildEnv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("build the restart Lambda (go build %s for linux/arm64): %w\n%s", LambdaPackage, err, strings.TrimSpace(out.String()))
	}
	exe, err := os.ReadFile(bin)
	if err != nil {
		return nil, fmt.Errorf("build the restart Lambda: %w", err)
	}
	zipped, err := zipBootstrap(exe)
	if err != nil {
		return nil, fmt.Errorf("pack the restart Lambda: %w", err)
	}
	return zipped, nil
}

// sourceKey fingerprints everything the build reads from the module (every
// non-test Go file, go.mod and go.sum: a superset of the bootstrap's own
// sources, which is cheap to hash and never misses a change), the Go
// version and the flags. A zip built from the same key is reused, so an
// unchanged tree costs a hash of its files, not a link (the offline plan
// and the tests record the program many times).
func sourceKey(ctx context.Context, goTool, moduleDir string) (string, error) {
	h := sha256.New()
	v, err := exec.CommandContext(ctx, goTool, "env", "GOVERSION", "GOFLAGS").Output()
	if err != nil {
		return "", fmt.Errorf("go env: %w", err)
	}
	fmt.Fprintf(h, "%s\n%q\n%q\n", v, buildFlags, buildEnv)
	err = filepath.WalkDir(moduleDir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != moduleDir && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "bin" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !(strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")) && name != "go.mod" && name != "go.sum" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(moduleDir, p)
		fmt.Fprintf(h, "%s %d\n", filepath.ToSlash(rel), len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("fingerprint the sources: %w", err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))[:16], nil
}

// prune removes the archives of earlier sources.
func prune(dir, keep string) {
	old, _ := filepath.Glob(filepath.Join(dir, "restart-lambda-arm64-*.zip"))
	for _, p := range old {
		if p != keep {
			os.Remove(p)
		}
	}
}

// zipBootstrap packs the executable as "bootstrap", mode 0755 (Lambda runs
// the file; without the execute bit the runtime cannot start it).
func zipBootstrap(exe []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: zipTime}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(exe); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeAtomic replaces path with data so that a concurrent reader (another
// test binary, a second `pulumi preview`) sees the old file or the new one.
func writeAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".restart-lambda-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), path)
}

// ModuleRoot returns the directory of the go.mod at or above dir (the
// working directory when dir is empty).
func ModuleRoot(dir string) (string, error) {
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		dir = wd
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", fmt.Errorf("no go.mod at or above %s: the program builds its Lambda from the project's sources", dir)
		}
		dir = up
	}
}

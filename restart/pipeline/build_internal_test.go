package pipeline

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestZipIsByteIdenticalForTheSameBinary(t *testing.T) {
	exe := bytes.Repeat([]byte("\x7fELF binary"), 1000)
	a, err := zipBootstrap(exe)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := zipBootstrap(exe)
	if !bytes.Equal(a, b) {
		t.Error("two zips of the same binary differ")
	}
	c, _ := zipBootstrap(append(exe, '!'))
	if bytes.Equal(a, c) {
		t.Error("zips of different binaries are equal")
	}
}

func TestSourceKeyChangesWithTheSourcesOnly(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go on PATH")
	}
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/m\n\ngo 1.26\n")
	write("cmd/restart-lambda/main.go", "package main\n\nfunc main() {}\n")
	key := func() string {
		t.Helper()
		k, err := sourceKey(context.Background(), goTool, dir)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	k1 := key()
	write("README.md", "docs do not change the binary\n")
	write("cmd/restart-lambda/main_test.go", "package main\n")
	write("node_modules/x/y.go", "package y\n")
	if k2 := key(); k2 != k1 {
		t.Errorf("key changed from %s to %s without a source change", k1, k2)
	}
	write("restart/engine/engine.go", "package engine\n")
	if k3 := key(); k3 == k1 {
		t.Error("key did not change when a Go source was added")
	}
}

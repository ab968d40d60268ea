package main

import (
	"path/filepath"
	"runtime"
	"testing"
)

// TestReadmeCostTableMatchesTheEstimate fails when the code changes what a
// stack costs and the README was not regenerated.
func TestReadmeCostTableMatchesTheEstimate(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	if err := run(root, true); err != nil {
		t.Fatal(err)
	}
}

func TestSpliceNeedsTheMarkers(t *testing.T) {
	if _, err := Splice([]byte("# no table here\n"), "| x |\n"); err == nil {
		t.Error("a README without markers was accepted")
	}
	out, err := Splice([]byte("a\n"+begin+"\nold\n"+end+"\nb\n"), "new\n")
	if err != nil || string(out) != "a\n"+begin+"\nnew\n"+end+"\nb\n" {
		t.Errorf("splice = %q, %v", out, err)
	}
}

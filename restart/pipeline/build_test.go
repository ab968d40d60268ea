package pipeline_test

import (
	"archive/zip"
	"context"
	"os"
	"testing"

	"github.com/nequi-platform/wordpress-ecs/restart/pipeline"
)

// TestLambdaArchiveIsAReproducibleArm64Bootstrap builds the archive the
// program deploys and checks what Lambda's provided.al2023 runtime needs:
// one executable called bootstrap, for linux/arm64, with fixed metadata.
func TestLambdaArchiveIsAReproducibleArm64Bootstrap(t *testing.T) {
	root, err := pipeline.ModuleRoot("")
	if err != nil {
		t.Fatal(err)
	}
	a, err := pipeline.BuildLambda(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("archive %s: %d bytes, sha256 %s, built in %v", a.Path, a.Size, a.SHA256, a.BuildTime)
	zr, err := zip.OpenReader(a.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" {
		t.Fatalf("archive holds %d files (%v), want only bootstrap", len(zr.File), zr.File)
	}
	f := zr.File[0]
	if f.Mode().Perm() != 0o755 {
		t.Errorf("bootstrap mode %v, want 0755 (the runtime executes it)", f.Mode())
	}
	if !f.Modified.Equal(f.Modified.UTC()) || f.Modified.Year() != 1980 {
		t.Errorf("bootstrap modified %v, want the fixed 1980-01-01", f.Modified)
	}
	r, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	head := make([]byte, 20)
	if _, err := r.Read(head); err != nil {
		t.Fatal(err)
	}
	r.Close()
	// ELF header: magic, 64-bit, little endian; e_machine 0xB7 is AArch64.
	if string(head[:4]) != "\x7fELF" || head[4] != 2 || head[18] != 0xB7 {
		t.Errorf("bootstrap is not a 64-bit arm64 ELF executable: % x", head)
	}
	if info, err := os.Stat(a.Path); err != nil || info.Size() != a.Size {
		t.Errorf("archive size on disk %v (%v), reported %d", info.Size(), err, a.Size)
	}
}

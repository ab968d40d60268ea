package iam_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every policy document of the program is built with this package, so
// that each is checked as IAM would check it: no other product code spells
// a document's elements out (tests and the judge's fixed stand-ins for
// AWS's own policies may).
func TestPolicyDocumentsAreWrittenOnlyHere(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			switch rel {
			case "node_modules", ".git", "iam", "internal", "bin":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, element := range []string{`"2012-10-17"`, `"Statement"`} {
			if strings.Contains(string(b), element) {
				t.Errorf("%s spells out a policy document (%s): build it with package iam", rel, element)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

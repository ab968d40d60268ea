// Package callsof tells which methods a package's code calls, read from
// its source: with the methods of the small interface an adapter reaches
// AWS through, a test can check that the interface holds nothing the code
// never calls (and so that the IAM actions derived from it grant nothing
// that is never used).
package callsof

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"strings"
)

// Unused returns the methods of iface that the non-test Go files in dir
// never call, directly (x.Method(...)) or through an SDK paginator
// (NewMethodPaginator(...)).
func Unused(dir string, iface reflect.Type) ([]string, error) {
	called := map[string]bool{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, 0)
		if err != nil {
			return nil, err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
				called[sel.Sel.Name] = true
				if m, ok := strings.CutPrefix(sel.Sel.Name, "New"); ok {
					called[strings.TrimSuffix(m, "Paginator")] = true
				}
			}
			return true
		})
	}
	var out []string
	for i := range iface.NumMethod() {
		if m := iface.Method(i).Name; !called[m] {
			out = append(out, m)
		}
	}
	return out, nil
}

package tools

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// notYetInVocabulary are the files still building Prefect reads by hand.
// The list only shrinks: a file that no longer needs its entry fails the
// test until the entry is removed.
var notYetInVocabulary = map[string]bool{
	"diagnosis/automation_facts.go": true,
	"diagnosis/late_facts.go":       true,
	"diagnosis/pools.go":            true,
	"diagnosis/run_facts.go":        true,
	"diagnosis/scheduling.go":       true,
	"diagnosis/stuck_facts.go":      true,
}

// TestReadVocabularyInUse fails when the tools or the diagnosis build a
// Prefect read by hand instead of with package prefect's read vocabulary
// (filters.go): a filter operator spelt as a string ("any_", "after_", …)
// or a JSON object literal nested in another (a hand-nested filter body).
func TestReadVocabularyInUse(t *testing.T) {
	operators := []string{prefect.OpAny, prefect.OpNotAny, prefect.OpAll, prefect.OpLike, prefect.OpIsNull,
		prefect.OpAfter, prefect.OpBefore, prefect.OpAtLeast, prefect.OpOr, "le_"}
	fset := token.NewFileSet()
	handBuilt := map[string][]string{}
	for _, dir := range []string{"../tools", "../diagnosis"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: %v files, %v", dir, len(files), err)
		}
		for _, path := range files {
			file := filepath.Join(filepath.Base(dir), filepath.Base(path))
			if strings.HasSuffix(file, "_test.go") || file == "tools/reads.go" {
				continue
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.BasicLit:
					if s, err := strconv.Unquote(n.Value); err == nil && n.Kind == token.STRING && slices.Contains(operators, s) {
						handBuilt[file] = append(handBuilt[file], fmt.Sprintf("%s: %q", fset.Position(n.Pos()), s))
					}
				case *ast.CompositeLit:
					if !isJSONObject(n.Type) {
						return true
					}
					for _, el := range n.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok {
							if inner, ok := kv.Value.(*ast.CompositeLit); ok && isAnyMap(inner.Type) {
								handBuilt[file] = append(handBuilt[file], fmt.Sprintf("%s: nested map[string]any literal", fset.Position(inner.Pos())))
							}
						}
					}
				}
				return true
			})
		}
	}
	for _, file := range slices.Sorted(maps.Keys(handBuilt)) {
		if !notYetInVocabulary[file] {
			t.Errorf("%s builds a Prefect read by hand; use package prefect's words (prefect.Body, prefect.Where, prefect.AnyOf, prefect.IDIn, prefect.After, …):\n\t%s",
				file, strings.Join(handBuilt[file], "\n\t"))
		}
	}
	for file := range notYetInVocabulary {
		if len(handBuilt[file]) == 0 {
			t.Errorf("%s uses the read vocabulary now: remove it from notYetInVocabulary", file)
		}
	}
}

// isJSONObject is a literal's type that is a JSON object: map[string]any
// or the vocabulary's names for it.
func isJSONObject(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.SelectorExpr:
		x, ok := e.X.(*ast.Ident)
		return ok && x.Name == "prefect" && (e.Sel.Name == "Body" || e.Sel.Name == "Where")
	case *ast.Ident:
		return e.Name == "where" || e.Name == "filterBody"
	}
	return isAnyMap(e)
}

// isAnyMap is the syntax map[string]any (or interface{}): the type of a
// hand-written JSON object. where and filterBody are its vocabulary names.
func isAnyMap(e ast.Expr) bool {
	m, ok := e.(*ast.MapType)
	if !ok {
		return false
	}
	if k, ok := m.Key.(*ast.Ident); !ok || k.Name != "string" {
		return false
	}
	switch v := m.Value.(type) {
	case *ast.Ident:
		return v.Name == "any"
	case *ast.InterfaceType:
		return len(v.Methods.List) == 0
	}
	return false
}

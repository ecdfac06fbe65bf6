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
)

// notYetInVocabulary are the files still building Prefect reads by hand.
// The list only shrinks: a file that no longer needs its entry fails the
// test until the entry is removed.
var notYetInVocabulary = map[string]bool{
	"deployments.go": true,
	"events.go":      true,
	"flow_runs.go":   true,
	"logs.go":        true,
	"task_runs.go":   true,
}

// TestReadVocabularyInUse fails when a tool builds a Prefect read by hand
// instead of with the vocabulary of reads.go: a filter operator spelt as a
// string ("any_", "after_", …) or a map[string]any literal nested in
// another (a hand-nested filter body).
func TestReadVocabularyInUse(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	operators := []string{opAny, opNotAny, opAll, opLike, opIsNull, opAfter, opBefore, opAtLeast, opOr, "le_"}
	fset := token.NewFileSet()
	handBuilt := map[string][]string{}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") || file == "reads.go" {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
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
				if !isAnyMap(n.Type) {
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
	for _, file := range slices.Sorted(maps.Keys(handBuilt)) {
		if !notYetInVocabulary[file] {
			t.Errorf("%s builds a Prefect read by hand; use reads.go's words (where, filterBody, anyOf, idIn, after, …):\n\t%s",
				file, strings.Join(handBuilt[file], "\n\t"))
		}
	}
	for file := range notYetInVocabulary {
		if len(handBuilt[file]) == 0 {
			t.Errorf("%s uses the read vocabulary now: remove it from notYetInVocabulary", file)
		}
	}
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

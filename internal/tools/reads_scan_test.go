package tools

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prefect-mcp/prefect-mcp/internal/prefect"
)

// TestReadVocabularyInUse fails when the tools or the diagnosis build a
// Prefect read by hand instead of with package prefect's read vocabulary
// (filters.go): a filter operator spelt as a string ("any_", "after_", …)
// or a JSON object literal nested in another (a hand-nested filter body).
func TestReadVocabularyInUse(t *testing.T) {
	for _, dir := range []string{"../tools", "../diagnosis"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: %v files, %v", dir, len(files), err)
		}
		for _, path := range files {
			if strings.HasSuffix(path, "_test.go") {
				continue
			}
			if found := handBuiltReads(t, path, nil); len(found) > 0 {
				t.Errorf("%s builds a Prefect read by hand; use package prefect's words (prefect.Body, prefect.Where, prefect.AnyOf, prefect.IDIn, prefect.After, …):\n\t%s",
					path, strings.Join(found, "\n\t"))
			}
		}
	}
}

// The scan finds what it looks for, and only that.
func TestHandBuiltReadsScan(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want int
	}{
		{`x := map[string]any{"flow_runs": map[string]any{"id": ids}}`, 1},
		{`x := prefect.Body{"flows": map[string]any{"id": ids}}`, 1},
		{`x := map[string]interface{}{"a": map[string]any{}}`, 1},
		{`x := m["any_"]`, 1},
		{`x := prefect.Where{"operator": "or_", "end_time": map[string]any{"after_": t}}`, 3},
		{`x := prefect.Body{"flows": prefect.IDIn(ids...), "limit": 1}`, 0},
		{`x := map[string]any{"query": q, "top_k": 5}`, 0},
		{`x := "any_ is Prefect's operator"`, 0},
		{`x := map[string]map[string]any{"a": {}}`, 0},
	} {
		src := "package p\nfunc f() {\n\t" + tc.src + "\n\t_ = x\n}\n"
		if got := handBuiltReads(t, "p.go", src); len(got) != tc.want {
			t.Errorf("%s: found %q, want %d", tc.src, got, tc.want)
		}
	}
}

// handBuiltReads lists where the Go file at path (or src, when not nil)
// spells a filter operator or nests a JSON object literal in another.
func handBuiltReads(t *testing.T, path string, src any) []string {
	t.Helper()
	operators := []string{prefect.OpAny, prefect.OpNotAny, prefect.OpAll, prefect.OpLike, prefect.OpIsNull,
		prefect.OpAfter, prefect.OpBefore, prefect.OpAtLeast, prefect.OpOr, "le_"}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, src, 0)
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BasicLit:
			if s, err := strconv.Unquote(n.Value); err == nil && n.Kind == token.STRING && slices.Contains(operators, s) {
				found = append(found, fmt.Sprintf("%s: %q", fset.Position(n.Pos()), s))
			}
		case *ast.CompositeLit:
			if !isJSONObject(n.Type) {
				return true
			}
			for _, el := range n.Elts {
				if kv, ok := el.(*ast.KeyValueExpr); ok {
					if inner, ok := kv.Value.(*ast.CompositeLit); ok && isAnyMap(inner.Type) {
						found = append(found, fmt.Sprintf("%s: nested map[string]any literal", fset.Position(inner.Pos())))
					}
				}
			}
		}
		return true
	})
	return found
}

// isJSONObject is a literal's type that is a JSON object: map[string]any,
// prefect.Body or prefect.Where.
func isJSONObject(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.SelectorExpr:
		x, ok := e.X.(*ast.Ident)
		return ok && x.Name == "prefect" && (e.Sel.Name == "Body" || e.Sel.Name == "Where")
	}
	return isAnyMap(e)
}

// isAnyMap is the syntax map[string]any (or interface{}): the type of a
// hand-written JSON object (prefect.Body and prefect.Where name it).
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

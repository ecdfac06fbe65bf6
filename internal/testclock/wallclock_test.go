package testclock

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/prefect-mcp/prefect-mcp/"

// root is the repository, seen from this package's directory.
const root = "../.."

// TestNoWallClockInFixtures fails when code a test fixture runs reads the
// wall clock. The fake Prefect and every package it imports must read no
// clock but the one it is given; the tools and the command may read it only
// where listed below (an elapsed-time measure, the process's own clock).
func TestNoWallClockInFixtures(t *testing.T) {
	allowed := map[string]string{
		"internal/cli/cli.go OSSystem":                           "the process's clock: the one wall-clock entry point",
		"internal/cli/observe.go observeTransport.RoundTrip":     "upstream latency metric: elapsed time, not a date",
		"internal/tools/server_status.go probe":                  "probe latency: elapsed time, not a date",
		"internal/prefect/retry.go RetryPolicy.withDefaults":     "default clock for Retry-After waits (tests pass their own)",
		"internal/target/reload.go NewReloading":                 "default clock for how often settings files are re-checked",
		"internal/auth/exchange.go ExchangeClientCredentials":    "when a Cloud token was received, for its expiry",
		"internal/auth/grant.go NewGrantClient":                  "default clock of the grant cache (tests pass their own)",
		"internal/auth/static.go LoadStaticTokens":               "default clock for static tokens' expiry (tests pass their own)",
		"internal/auth/verifier.go VerifierOptions.withDefaults": "default clock tokens are checked against (tests pass their own)",
	}
	// The tools' imports too: the diagnosis, schedule and trigger packages
	// compute with the time the tools give them.
	dirs := append(importClosure(t, "internal/prefecttest"), importClosure(t, "internal/tools")...)
	// The fixtures only tests import: the OAuth issuer and the docs server.
	dirs = append(dirs, "internal/cli", "internal/testclock", "internal/auth/authtest", "internal/docsproxy/docstest")
	seen := map[string]bool{}
	for _, dir := range dirs {
		if seen[dir] {
			continue
		}
		seen[dir] = true
		for _, read := range wallClockReads(t, dir) {
			if _, ok := allowed[read]; ok {
				delete(allowed, read)
				continue
			}
			t.Errorf("%s reads the wall clock: take the time from the caller (Data.AsOf, WithClock, Deps.Now, System.Now)", read)
		}
	}
	for read := range allowed {
		t.Errorf("allow-list entry %q matches nothing: remove it", read)
	}
	if !seen["internal/openapi"] || !seen["internal/diagnosis"] || !seen["internal/schedule"] || !seen["internal/auth"] {
		t.Errorf("the fake's and the tools' imports were not followed: %v", dirs)
	}
}

// TestTestsSeedFixturesWithTheirClock fails when a test of the fixture
// packages seeds a workspace, a fake or the tools with the wall clock
// (Demo(time.Now()), WithClock(time.Now), Now: time.Now, AsOf = time.Now()):
// they take the shifted test clock instead.
func TestTestsSeedFixturesWithTheirClock(t *testing.T) {
	for _, dir := range []string{"internal/tools", "internal/cli", "internal/prefecttest", "internal/fakeprefect"} {
		for _, use := range wallClockSeeds(t, dir) {
			t.Errorf("%s seeds a fixture with the wall clock: use the package's test clock (now)", use)
		}
	}
}

// wallClockSeeds lists "dir/file_test.go:line" where a test passes the
// wall clock to Demo, WithClock, a Now field or Data.AsOf.
func wallClockSeeds(t *testing.T, dir string) []string {
	t.Helper()
	path := dir
	if !filepath.IsAbs(dir) {
		path = filepath.Join(root, dir)
	}
	files, err := filepath.Glob(filepath.Join(path, "*_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	var uses []string
	fset := token.NewFileSet()
	for _, file := range files {
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		timeName := importName(f, "time")
		if timeName == "" {
			continue
		}
		readsClock := func(n ast.Node) bool {
			found := false
			ast.Inspect(n, func(n ast.Node) bool {
				if sel, ok := n.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == timeName && sel.Sel.Name == "Now" {
						found = true
					}
				}
				return !found
			})
			return found
		}
		ast.Inspect(f, func(n ast.Node) bool {
			var seeded ast.Node
			switch n := n.(type) {
			case *ast.CallExpr:
				if name := calleeName(n.Fun); name == "Demo" || name == "WithClock" {
					seeded = n
				}
			case *ast.KeyValueExpr:
				if k, ok := n.Key.(*ast.Ident); ok && k.Name == "Now" {
					seeded = n.Value
				}
			case *ast.AssignStmt:
				for _, lhs := range n.Lhs {
					if sel, ok := lhs.(*ast.SelectorExpr); ok && sel.Sel.Name == "AsOf" {
						seeded = n
					}
				}
			}
			if seeded != nil && readsClock(seeded) {
				pos := fset.Position(n.Pos())
				uses = append(uses, filepath.ToSlash(filepath.Join(dir, filepath.Base(pos.Filename)))+":"+strconv.Itoa(pos.Line))
				return false
			}
			return true
		})
	}
	return uses
}

func calleeName(fun ast.Expr) string {
	switch f := fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		return f.Sel.Name
	}
	return ""
}

// TestWallClockReadsAreFound proves the scanner sees each form of a read.
func TestWallClockReadsAreFound(t *testing.T) {
	dir := t.TempDir()
	src := `package x

import clock "time"

var started = clock.Now()

type s struct{}

func (s) age() clock.Duration { return clock.Since(started) }
func until() clock.Duration  { return clock.Until(started) }
func pass() func() clock.Time { return clock.Now }
func fine() clock.Time        { return clock.Unix(0, 0) }
`
	if err := os.WriteFile(filepath.Join(dir, "x.go"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	got := wallClockReads(t, dir)
	file := filepath.ToSlash(filepath.Join(dir, "x.go"))
	want := []string{file + " <package>", file + " s.age", file + " until", file + " pass"}
	if !slices.Equal(got, want) {
		t.Errorf("reads = %q, want %q", got, want)
	}
	test := `package x

import (
	"testing"
	"time"
)

func TestX(t *testing.T) {
	a := fakeprefect.Demo(time.Now())
	b := Deps{Now: time.Now}
	c := fakeprefect.WithClock(func() time.Time { return time.Now().Add(time.Hour) })
	d.AsOf = time.Now()
	fine := fakeprefect.Demo(now)
	_ = time.Now()
}
`
	if err := os.WriteFile(filepath.Join(dir, "x_test.go"), []byte(test), 0o600); err != nil {
		t.Fatal(err)
	}
	seeds := wallClockSeeds(t, dir)
	file = filepath.ToSlash(filepath.Join(dir, "x_test.go"))
	if want := []string{file + ":9", file + ":10", file + ":11", file + ":12"}; !slices.Equal(seeds, want) {
		t.Errorf("seeds = %q, want %q", seeds, want)
	}
}

// wallClockReads lists "dir/file.go func" for each time.Now, time.Since or
// time.Until in dir's non-test Go files (dir relative to the repository,
// or absolute).
func wallClockReads(t *testing.T, dir string) []string {
	t.Helper()
	path := dir
	if !filepath.IsAbs(dir) {
		path = filepath.Join(root, dir)
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		t.Fatal(err)
	}
	var reads []string
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(path, name), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		timeName := importName(f, "time")
		if timeName == "" {
			continue
		}
		where := filepath.ToSlash(filepath.Join(dir, name))
		for _, decl := range f.Decls {
			fn := "<package>"
			if d, ok := decl.(*ast.FuncDecl); ok {
				fn = funcName(d)
			}
			ast.Inspect(decl, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == timeName && slices.Contains([]string{"Now", "Since", "Until"}, sel.Sel.Name) {
					reads = append(reads, where+" "+fn)
				}
				return true
			})
		}
	}
	return slices.Compact(reads)
}

// importClosure is dir and the module's packages it imports, transitively.
func importClosure(t *testing.T, dir string) []string {
	t.Helper()
	out := []string{dir}
	for i := 0; i < len(out); i++ {
		entries, err := os.ReadDir(filepath.Join(root, out[i]))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(root, out[i], e.Name()), nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if rel, ok := strings.CutPrefix(p, module); ok && !slices.Contains(out, rel) {
					out = append(out, rel)
				}
			}
		}
	}
	return out
}

func importName(f *ast.File, path string) string {
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p != path {
			continue
		}
		if imp.Name == nil {
			return path
		}
		if imp.Name.Name == "_" || imp.Name.Name == "." {
			return ""
		}
		return imp.Name.Name
	}
	return ""
}

func funcName(d *ast.FuncDecl) string {
	if d.Recv == nil || len(d.Recv.List) == 0 {
		return d.Name.Name
	}
	typ := d.Recv.List[0].Type
	if star, ok := typ.(*ast.StarExpr); ok {
		typ = star.X
	}
	if idx, ok := typ.(*ast.IndexExpr); ok {
		typ = idx.X
	}
	if id, ok := typ.(*ast.Ident); ok {
		return id.Name + "." + d.Name.Name
	}
	return d.Name.Name
}

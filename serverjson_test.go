package prefectmcp_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// registrySchemaURL is the $schema server.json names; testdata holds that
// document (see testdata/README.md for its source and date).
const (
	registrySchemaURL  = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
	registrySchemaFile = "testdata/server.schema.2025-12-11.json"
)

// TestServerJSONValidForRegistry validates server.json against the MCP
// registry's published schema, then applies the registry's publish-time checks
// for OCI packages that the schema cannot express (modelcontextprotocol/registry
// internal/validators/registries/oci.go): no registryBaseUrl, version or
// fileSha256; an identifier on an allowed registry, tagged with the version.
func TestServerJSONValidForRegistry(t *testing.T) {
	raw := readFile(t, "server.json")
	sj := readServerJSON(t)
	if sj.Schema != registrySchemaURL {
		t.Fatalf("server.json $schema = %q; vendor that schema into testdata and update registrySchemaURL", sj.Schema)
	}

	schemaDoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(readFile(t, registrySchemaFile)))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(registrySchemaURL, schemaDoc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile(registrySchemaURL)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(doc); err != nil {
		t.Fatalf("server.json does not validate against %s:\n%v", registrySchemaFile, err)
	}

	// The schema rejects what the registry rejects: a test that cannot fail is no test.
	long := strings.Replace(string(raw), sj.Description, strings.Repeat("x", 101), 1)
	if bad, _ := jsonschema.UnmarshalJSON(strings.NewReader(long)); schema.Validate(bad) == nil {
		t.Error("a 101-character description validated; the schema is not applied")
	}

	if len(sj.Packages) == 0 {
		t.Fatal("server.json lists no package")
	}
	for _, p := range sj.Packages {
		if p.RegistryType != "oci" {
			continue
		}
		if p.RegistryBaseURL != "" || p.Version != "" || p.FileSHA256 != "" {
			t.Errorf("OCI package %s: the registry refuses registryBaseUrl, version and fileSha256 (the tag carries the version)", p.Identifier)
		}
		if want := "ghcr.io/prefect-mcp/prefect-mcp:" + sj.Version; p.Identifier != want {
			t.Errorf("OCI identifier %q, want %q (the image tag is the server version)", p.Identifier, want)
		}
		// The image's entrypoint speaks stdio unless given --transport http.
		if p.Transport.Type != "stdio" {
			t.Errorf("OCI package transport %q, want stdio (the image's default)", p.Transport.Type)
		}
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(sj.Version) {
		t.Errorf("server.json version %q is not a plain semantic version", sj.Version)
	}
}

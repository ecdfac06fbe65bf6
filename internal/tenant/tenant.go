// Package tenant names who an HTTP request is for, for the limits shared
// between clients (call slots, event streams): the authenticated principal
// when inbound authentication is on, else the credentials the request
// carries. Only a digest is kept, so no credential outlives the request.
package tenant

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
)

// credentialHeaders are the request headers that name a caller without
// inbound authentication.
var credentialHeaders = []string{"Authorization", "X-Prefect-Api-Url", "X-Prefect-Api-Key", "X-Prefect-Api-Auth-String"}

// Key is the tenant of a request: principal (an OAuth subject or a static
// token's digest) when set, whatever X-Prefect-* headers come with it, so
// varying them wins no extra share; else a digest of the credential headers.
// Requests with neither (stdio, or HTTP on the server's own credentials)
// share one tenant.
func Key(principal string, h http.Header) string {
	d := sha256.New()
	if principal != "" {
		d.Write([]byte("principal\x00" + principal))
		return hex.EncodeToString(d.Sum(nil)[:16])
	}
	d.Write([]byte{0})
	for _, name := range credentialHeaders {
		for _, v := range h.Values(name) {
			d.Write([]byte(v))
			d.Write([]byte{1})
		}
		d.Write([]byte{0})
	}
	return hex.EncodeToString(d.Sum(nil)[:16])
}

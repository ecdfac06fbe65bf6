package httpserver

import (
	"fmt"
	"net"
)

// RefuseUnauthenticated returns an error when serving on addr would let anyone
// who can reach the port read the Prefect workspace: the bind address is not
// loopback, the server holds its own Prefect credentials, inbound requests are
// not authenticated, and the operator has not explicitly accepted that.
func RefuseUnauthenticated(addr string, hasServerCredentials, hasInboundAuth, allowUnauthenticated bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid listen address %q: %w", addr, err)
	}
	if !isUnspecifiedOrEmpty(host) && isLoopbackAddr(host) {
		return nil
	}
	if !hasServerCredentials || hasInboundAuth || allowUnauthenticated {
		return nil
	}
	where := "every interface"
	if !isUnspecifiedOrEmpty(host) {
		where = host
	}
	return fmt.Errorf("refusing to listen on %s (%s) without inbound authentication: "+
		"this server holds its own Prefect credentials, so anyone who can reach the port could read the workspace. "+
		"Protect it with --auth-tokens-file or --cloud-oauth, bind to 127.0.0.1, "+
		"or pass --allow-unauthenticated if the network in front of it already restricts access", addr, where)
}

package handlers

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/labstack/echo/v4"
)

// ClientIPExtractor returns Echo's IPExtractor for the configured trusted proxies. With none,
// the client is the TCP peer and no header is read. With some, X-Forwarded-For is read only
// when the peer is a trusted proxy, from the right, skipping trusted hops: the first untrusted
// address is the client. A client can therefore never choose the address ctpdesk records by
// sending a header, whatever Echo's defaults would do.
func ClientIPExtractor(trusted []netip.Prefix) echo.IPExtractor {
	isTrusted := func(a netip.Addr) bool {
		a = a.Unmap()
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	return func(r *http.Request) string {
		peer := peerAddr(r.RemoteAddr)
		if !peer.IsValid() {
			return ""
		}
		if len(trusted) == 0 || !isTrusted(peer) {
			return peer.Unmap().String()
		}
		hops := r.Header.Values(echo.HeaderXForwardedFor)
		var all []string
		for _, h := range hops {
			all = append(all, strings.Split(h, ",")...)
		}
		client := peer
		for i := len(all) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(all[i]))
			if err != nil {
				// A malformed hop ends the walk: everything left of it is the client's to invent.
				break
			}
			client = a
			if !isTrusted(a) {
				break
			}
		}
		return client.Unmap().String()
	}
}

func peerAddr(remote string) netip.Addr {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a
}

package config

import (
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"ctpdesk/auth"
)

// OIDCConfig is how ctpdesk reaches the bank's OpenID Provider. In `ctpdesk dev` an empty
// issuer means "start the development provider"; `ctpdesk serve` requires a real one.
type OIDCConfig struct {
	Issuer       string   // CTPDESK_OIDC_ISSUER
	ClientID     string   // CTPDESK_OIDC_CLIENT_ID
	ClientSecret Secret   // CTPDESK_OIDC_CLIENT_SECRET; empty for a public client (PKCE only)
	RedirectURL  *url.URL // CTPDESK_OIDC_REDIRECT_URL; default PublicURL + /auth/callback
	Scopes       []string // CTPDESK_OIDC_SCOPES, comma-separated; openid is always included, offline_access by default
	RoleClaim    string   // CTPDESK_OIDC_ROLE_CLAIM, default "groups"
	// RequireAMR refuses sign-ins whose amr names none of these methods
	// (CTPDESK_OIDC_REQUIRE_AMR); ACRValues are asked for and required of acr
	// (CTPDESK_OIDC_ACR_VALUES). Both empty by default: multi-factor authentication is the
	// provider's, and these make ctpdesk check the provider's word for it.
	RequireAMR  []string
	ACRValues   []string
	DevIDPAddr  string // CTPDESK_DEVIDP_ADDR: where `ctpdesk dev` runs its provider
	DevIDPUsers string // CTPDESK_DEVIDP_USERS: a JSON users file for the development provider
}

// RoleConfig maps IdP groups to ctpdesk roles (comma-separated group names per role).
type RoleConfig struct {
	Agent   []string // CTPDESK_ROLE_AGENT
	Fraud   []string // CTPDESK_ROLE_FRAUD
	Auditor []string // CTPDESK_ROLE_AUDITOR
}

// Map returns the role map the relying party applies to a user's groups.
func (r RoleConfig) Map() auth.RoleMap {
	return auth.RoleMap{auth.RoleAgent: r.Agent, auth.RoleFraud: r.Fraud, auth.RoleAuditor: r.Auditor}
}

// SessionConfig holds the session lifetimes and the cookie's security.
type SessionConfig struct {
	// DBTimeout bounds one request's wait for the session store before it answers 503
	// (CTPDESK_SESSION_DB_TIMEOUT, default 500ms).
	DBTimeout time.Duration
	Idle      time.Duration // CTPDESK_SESSION_IDLE, at most 15m (PCI DSS 8.2.8)
	Max       time.Duration // CTPDESK_SESSION_MAX, absolute lifetime from sign-in
	// Secure selects the __Host- cookie prefix and the Secure attribute
	// (CTPDESK_COOKIE_SECURE). It is always on in serve; in dev it is off only when the
	// dashboard is plain http on a loopback address (see Config.CookieSecure).
	Secure    bool
	SecureSet bool
}

// Development defaults: the development provider's groups.
var (
	devAgentGroups   = []string{"cs-agents"}
	devFraudGroups   = []string{"fraud-analysts"}
	devAuditorGroups = []string{"it-audit"}
)

var claimNamePattern = regexp.MustCompile(`^[A-Za-z0-9_:./-]{1,128}$`)

// loadAuthConfig reads the OIDC, role and session settings into c.
func loadAuthConfig(r *envReader, c *Config) {
	o := &c.OIDC
	o.Issuer = r.str("CTPDESK_OIDC_ISSUER", "")
	if o.Issuer != "" {
		u, err := url.Parse(o.Issuer)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			r.fail("CTPDESK_OIDC_ISSUER", "%q is not an absolute http(s) URL", o.Issuer)
		case u.Scheme == "http" && (c.Mode == ModeServe || !isLoopbackHost(u.Hostname())):
			r.fail("CTPDESK_OIDC_ISSUER", "must be https:// (plain http only for a loopback provider in dev)")
		case u.User != nil || u.RawQuery != "" || u.Fragment != "":
			r.fail("CTPDESK_OIDC_ISSUER", "must not carry credentials, a query or a fragment")
		}
	}
	o.ClientID = r.str("CTPDESK_OIDC_CLIENT_ID", "")
	if len(o.ClientID) > 255 {
		r.fail("CTPDESK_OIDC_CLIENT_ID", "is longer than 255 characters")
	}
	o.ClientSecret = Secret(r.str("CTPDESK_OIDC_CLIENT_SECRET", ""))
	o.RedirectURL = r.url("CTPDESK_OIDC_REDIRECT_URL", "")
	if o.RedirectURL != nil && c.Mode == ModeServe && o.RedirectURL.Scheme != "https" {
		r.fail("CTPDESK_OIDC_REDIRECT_URL", "must be an https:// URL in production")
	}
	// The default asks for offline_access: its refresh token is how a session re-checks the
	// person at the provider.
	o.Scopes = r.list("CTPDESK_OIDC_SCOPES", slices.Clone(auth.DefaultScopes))
	r.tokenList("CTPDESK_OIDC_SCOPES", o.Scopes, "scope")
	o.RequireAMR = r.list("CTPDESK_OIDC_REQUIRE_AMR", nil)
	r.tokenList("CTPDESK_OIDC_REQUIRE_AMR", o.RequireAMR, "authentication method")
	o.ACRValues = r.list("CTPDESK_OIDC_ACR_VALUES", nil)
	r.tokenList("CTPDESK_OIDC_ACR_VALUES", o.ACRValues, "acr value")
	if !slices.Contains(o.Scopes, "openid") {
		o.Scopes = append([]string{"openid"}, o.Scopes...)
	}
	o.RoleClaim = r.str("CTPDESK_OIDC_ROLE_CLAIM", "groups")
	if !claimNamePattern.MatchString(o.RoleClaim) {
		r.fail("CTPDESK_OIDC_ROLE_CLAIM", "%q is not a claim name", o.RoleClaim)
	}
	o.DevIDPAddr = r.addr("CTPDESK_DEVIDP_ADDR", "127.0.0.1:8091")
	if host, _, err := net.SplitHostPort(o.DevIDPAddr); err == nil && !isLoopbackHost(host) {
		r.fail("CTPDESK_DEVIDP_ADDR", "the development provider only listens on loopback")
	}
	o.DevIDPUsers = r.str("CTPDESK_DEVIDP_USERS", "")

	var defA, defF, defU []string
	if c.Mode == ModeDev && o.Issuer == "" {
		defA, defF, defU = devAgentGroups, devFraudGroups, devAuditorGroups
	}
	c.Roles.Agent = r.groups("CTPDESK_ROLE_AGENT", defA)
	c.Roles.Fraud = r.groups("CTPDESK_ROLE_FRAUD", defF)
	c.Roles.Auditor = r.groups("CTPDESK_ROLE_AUDITOR", defU)

	c.Session.Idle = r.duration("CTPDESK_SESSION_IDLE", auth.DefaultIdleTimeout, time.Minute, 15*time.Minute)
	c.Session.Max = r.duration("CTPDESK_SESSION_MAX", auth.DefaultMaxLifetime, 15*time.Minute, 24*time.Hour)
	c.Session.DBTimeout = r.duration("CTPDESK_SESSION_DB_TIMEOUT", auth.DefaultDBTimeout, 50*time.Millisecond, time.Minute)
	if c.Session.Max < c.Session.Idle {
		r.fail("CTPDESK_SESSION_MAX", "%s is shorter than CTPDESK_SESSION_IDLE %s", c.Session.Max, c.Session.Idle)
	}
	_, c.Session.SecureSet = r.raw("CTPDESK_COOKIE_SECURE")
	c.Session.Secure = r.boolean("CTPDESK_COOKIE_SECURE", true)

	if c.Mode == ModeServe {
		r.require("CTPDESK_OIDC_ISSUER")
		r.require("CTPDESK_OIDC_CLIENT_ID")
		if !c.Session.Secure {
			r.fail("CTPDESK_COOKIE_SECURE", "cannot be turned off by 'ctpdesk serve'")
		}
		if len(c.Roles.Agent)+len(c.Roles.Fraud)+len(c.Roles.Auditor) == 0 {
			r.fail("CTPDESK_ROLE_AGENT", "no IdP group is mapped to any role: set CTPDESK_ROLE_AGENT, CTPDESK_ROLE_FRAUD or CTPDESK_ROLE_AUDITOR")
		}
	}
}

// tokenList refuses list items that are not printable ASCII without spaces, quotes or
// backslashes: scopes, amr and acr values are such tokens, sent in URLs and compared exactly.
func (r *envReader) tokenList(name string, items []string, what string) {
	for _, s := range items {
		if len(s) > 255 || strings.ContainsAny(s, " \"\\") || strings.ContainsFunc(s, func(c rune) bool { return c < 0x21 || c > 0x7e }) {
			r.fail(name, "%s %q holds characters it cannot have", what, s)
		}
	}
}

// groups reads a comma-separated list of IdP group names.
func (r *envReader) groups(name string, def []string) []string {
	r.note(name, def)
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	g, err := auth.ParseGroupList(v)
	if err != nil {
		r.fail(name, "%v", err)
		return def
	}
	return g
}

// CookieSecure decides the session cookie's Secure flag and __Host- prefix once the public URL
// is known: on everywhere, except `ctpdesk dev` serving plain http on a loopback host, where a
// browser would refuse a __Host- cookie. An explicit CTPDESK_COOKIE_SECURE wins in dev.
func (c Config) CookieSecure() bool {
	if c.Mode != ModeDev || c.Session.SecureSet {
		return c.Session.Secure
	}
	if c.PublicURL != nil && c.PublicURL.Scheme == "http" && isLoopbackHost(c.PublicURL.Hostname()) {
		return false
	}
	return true
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

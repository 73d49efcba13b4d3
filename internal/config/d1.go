package config

import (
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"ctpdesk/d1"
	"ctpdesk/d1sandbox"
)

// D1Config is how ctpdesk reaches Thales D1 and, in development, how its sandbox behaves.
type D1Config struct {
	// Client is the D1 client's configuration (CTPDESK_D1_*). In dev, empty URLs, issuer id
	// and key mean "use the embedded sandbox and its throwaway key".
	Client d1.Config
	// SandboxAddr is where `ctpdesk dev` and `ctpdesk sandbox` run the sandbox
	// (CTPDESK_SANDBOX_ADDR).
	SandboxAddr string
	// SandboxFault and SandboxConsumerFaults are the sandbox's initial faults
	// (CTPDESK_SANDBOX_FAULT, CTPDESK_SANDBOX_CONSUMER_FAULTS; see d1sandbox.ParseFault).
	SandboxFault          d1sandbox.Fault
	SandboxConsumerFaults map[string]d1sandbox.Fault
}

// DevIssuerID is the issuer id of the embedded sandbox when CTPDESK_D1_ISSUER_ID is unset.
const DevIssuerID = "CTPDESK_01"

// LogValue prints the D1 settings; nothing here is secret (the key is a file path).
func (c D1Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("authz_url", c.Client.AuthzURL),
		slog.String("banking_url", c.Client.BankingURL),
		slog.String("issuer_id", c.Client.IssuerID),
		slog.String("key_id", c.Client.KeyID),
		slog.Bool("mtls", c.Client.ClientCertFile != ""),
		slog.Duration("timeout", c.Client.Timeout),
		slog.String("sandbox_addr", c.SandboxAddr),
	)
}

// loadD1Config reads the CTPDESK_D1_* and CTPDESK_SANDBOX_* variables into c.D1.
func loadD1Config(r *envReader, c *Config) {
	d := &c.D1
	cl := &d.Client
	cl.AuthzURL = r.str("CTPDESK_D1_AUTHZ_URL", "")
	cl.BankingURL = r.str("CTPDESK_D1_BANKING_URL", "")
	cl.IssuerID = r.str("CTPDESK_D1_ISSUER_ID", "")
	cl.SigningKeyFile = r.str("CTPDESK_D1_SIGNING_KEY_FILE", "")
	cl.KeyID = r.str("CTPDESK_D1_KEY_ID", "")
	cl.Audience = r.str("CTPDESK_D1_AUDIENCE", "")
	cl.ClientCertFile = r.str("CTPDESK_D1_CLIENT_CERT_FILE", "")
	cl.ClientKeyFile = r.str("CTPDESK_D1_CLIENT_KEY_FILE", "")
	cl.CAFile = r.str("CTPDESK_D1_CA_FILE", "")
	cl.Timeout = r.duration("CTPDESK_D1_TIMEOUT", d1.DefaultTimeout, 100*time.Millisecond, 30*time.Second)
	cl.CacheTTL = r.duration("CTPDESK_D1_CACHE_TTL", d1.DefaultCacheTTL, time.Second, 10*time.Minute)
	cl.CacheSize = r.integer("CTPDESK_D1_CACHE_SIZE", d1.DefaultCacheSize, 1, 1_000_000)
	// 0 disables serving stale results; the d1 package spells that as a negative age.
	if cl.StaleMaxAge = r.duration("CTPDESK_D1_STALE_MAX_AGE", d1.DefaultStaleMaxAge, 0, 24*time.Hour); cl.StaleMaxAge == 0 {
		cl.StaleMaxAge = -1
	}
	if cl.MaxRetries = r.integer("CTPDESK_D1_MAX_RETRIES", d1.DefaultMaxRetries, 0, 2); cl.MaxRetries == 0 {
		cl.MaxRetries = -1
	}
	cl.RetryAfterMax = r.duration("CTPDESK_D1_RETRY_AFTER_MAX", d1.DefaultRetryAfterMax, 0, time.Minute)
	cl.BreakerFailures = uint32(r.integer("CTPDESK_D1_BREAKER_FAILURES", d1.DefaultBreakerFailures, 1, 1000))
	cl.BreakerOpenTimeout = r.duration("CTPDESK_D1_BREAKER_OPEN", d1.DefaultBreakerOpenTimeout, time.Second, 10*time.Minute)

	d.SandboxAddr = r.addr("CTPDESK_SANDBOX_ADDR", "127.0.0.1:8090")
	if spec := r.str("CTPDESK_SANDBOX_FAULT", ""); spec != "" {
		f, err := d1sandbox.ParseFault(spec)
		if err != nil {
			r.fail("CTPDESK_SANDBOX_FAULT", "%v", err)
		}
		d.SandboxFault = f
	}
	if spec := r.str("CTPDESK_SANDBOX_CONSUMER_FAULTS", ""); spec != "" {
		m, err := d1sandbox.ParseConsumerFaults(spec)
		if err != nil {
			r.fail("CTPDESK_SANDBOX_CONSUMER_FAULTS", "%v", err)
		}
		d.SandboxConsumerFaults = m
	}

	if c.Mode == ModeServe {
		for _, name := range []string{"CTPDESK_D1_AUTHZ_URL", "CTPDESK_D1_BANKING_URL", "CTPDESK_D1_ISSUER_ID", "CTPDESK_D1_SIGNING_KEY_FILE", "CTPDESK_D1_KEY_ID"} {
			r.require(name)
		}
		for name, v := range map[string]string{"CTPDESK_D1_AUTHZ_URL": cl.AuthzURL, "CTPDESK_D1_BANKING_URL": cl.BankingURL} {
			if u, err := url.Parse(v); v != "" && (err != nil || u.Scheme != "https") {
				r.fail(name, "must be an https:// URL in production")
			}
		}
	}
	// In dev an unset D1 means the embedded sandbox; validate only what was given.
	if c.Mode == ModeDev && cl.AuthzURL == "" && cl.BankingURL == "" && cl.SigningKeyFile == "" {
		if cl.IssuerID == "" {
			cl.IssuerID = DevIssuerID
		}
		if !validIssuerID(cl.IssuerID) {
			r.fail("CTPDESK_D1_ISSUER_ID", "must be exactly 10 characters of A-Z, a-z, 0-9, '_' or '-'")
		}
		return
	}
	reportD1Errors(r, *cl)
}

// validIssuerID reports whether id is a well-formed D1 issuer id.
func validIssuerID(id string) bool {
	if len(id) != 10 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// d1EnvName returns the variable a d1.Config field is read from.
func d1EnvName(field string) string {
	switch field {
	case "AuthzURL":
		return "CTPDESK_D1_AUTHZ_URL"
	case "BankingURL":
		return "CTPDESK_D1_BANKING_URL"
	case "IssuerID":
		return "CTPDESK_D1_ISSUER_ID"
	case "SigningKeyFile", "SigningKey":
		return "CTPDESK_D1_SIGNING_KEY_FILE"
	case "KeyID":
		return "CTPDESK_D1_KEY_ID"
	case "ClientCertFile":
		return "CTPDESK_D1_CLIENT_CERT_FILE"
	case "ClientKeyFile":
		return "CTPDESK_D1_CLIENT_KEY_FILE"
	case "CAFile":
		return "CTPDESK_D1_CA_FILE"
	case "BreakerOpenTimeout":
		return "CTPDESK_D1_BREAKER_OPEN"
	default:
		var b strings.Builder
		for i, r := range field {
			if i > 0 && r >= 'A' && r <= 'Z' {
				b.WriteByte('_')
			}
			b.WriteRune(r)
		}
		return "CTPDESK_D1_" + strings.ToUpper(b.String())
	}
}

// reportD1Errors validates the client settings and reports each problem under the name of
// the variable it came from.
func reportD1Errors(r *envReader, cl d1.Config) {
	err := cl.Validate()
	if err == nil {
		return
	}
	errs := []error{err}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	}
	for _, e := range errs {
		var ce *d1.ConfigError
		if errors.As(e, &ce) {
			name := d1EnvName(ce.Field)
			if _, set := r.raw(name); !set && r.failed(name) {
				continue // already reported as missing
			}
			r.fail(name, "%s", ce.Reason)
			continue
		}
		r.fail("CTPDESK_D1", "%v", e)
	}
}

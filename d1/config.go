package d1

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"time"
)

// Defaults applied by Config.WithDefaults. They follow the D1 facts (15-minute tokens) and the
// reliability baseline (a deadline on every call, at most 2 retries, 10 % retry budget). D1
// fans each call out to the schemes' directories, so an answer after 3 to 5 s is slow but
// real: one attempt may take 6 s, and the whole call, retries included, 8 s, which is how
// long the comparison page waits for D1.
const (
	DefaultTimeout            = 8 * time.Second
	DefaultAttemptTimeout     = 6 * time.Second
	DefaultCacheTTL           = 60 * time.Second
	DefaultCacheSize          = 10000
	DefaultStaleMaxAge        = 10 * time.Minute
	DefaultMaxRetries         = 2
	DefaultBackoffBase        = 100 * time.Millisecond
	DefaultBackoffMax         = 1 * time.Second
	DefaultRetryAfterMax      = 2 * time.Second
	DefaultRetryBudgetRatio   = 0.1
	DefaultRetryBudgetReserve = 2
	DefaultBreakerFailures    = 5
	DefaultBreakerOpenTimeout = 30 * time.Second
	DefaultTokenRefreshMargin = 60 * time.Second
	DefaultAssertionLifetime  = 10 * time.Minute
	DefaultMaxBodyBytes       = 1 << 20

	// MaxAssertionLifetime is D1's limit on the JWT assertion's exp: at most now + 15 minutes.
	MaxAssertionLifetime = 15 * time.Minute
)

// issuerIDPattern is the shape of a D1 issuer id: exactly ten characters. Public examples
// contain letters, digits, '_' and '-'.
var issuerIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{10}$`)

// Config is everything the D1 client needs. Zero durations and sizes take the defaults above
// (see WithDefaults); Validate reports every problem at start, naming the field.
type Config struct {
	// AuthzURL is the OAuth base URL, e.g. https://api.d1-stg.thalescloud.io/authz/v1.
	AuthzURL string
	// BankingURL is the Click to Pay API base URL, e.g. https://api.d1-stg.thalescloud.io/banking/v1.
	BankingURL string
	// IssuerID is the issuer id given at D1 onboarding: exactly 10 characters.
	IssuerID string
	// SigningKey signs the JWT assertion (ES256). When nil, SigningKeyFile is read by New.
	SigningKey *ecdsa.PrivateKey
	// SigningKeyFile is a PEM file holding a P-256 private key (PKCS#8 or SEC 1).
	SigningKeyFile string
	// KeyID is the kid D1 knows the public half of the signing key by.
	KeyID string
	// Audience is the optional aud claim of the assertion.
	Audience string
	// ClientCertFile, ClientKeyFile and CAFile configure mutual TLS; see NewHTTPClient.
	ClientCertFile string
	ClientKeyFile  string
	CAFile         string

	// Timeout is the budget of one GetProfiles call: the token, every attempt, every backoff
	// and retry fit inside it, so it is how long a page waits for D1. The caller's deadline
	// wins when it is earlier.
	Timeout time.Duration
	// AttemptTimeout bounds one HTTP attempt inside that budget: an attempt that hangs is given
	// up and retried while the budget leaves time for another.
	AttemptTimeout time.Duration
	// CacheTTL is how long a successful result is served from the cache.
	CacheTTL time.Duration
	// CacheSize bounds the number of consumers held in the cache (LRU).
	CacheSize int
	// StaleMaxAge is how old a cached result may be and still be served, marked stale, when D1
	// fails. Negative disables serving stale results.
	StaleMaxAge time.Duration
	// MaxRetries is the number of retries after the first attempt (0..2). Negative disables.
	MaxRetries int
	// BackoffBase and BackoffMax shape the capped exponential backoff with full jitter.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// RetryAfterMax is the longest Retry-After the client honours; a longer one ends retrying.
	RetryAfterMax time.Duration
	// RetryBudgetRatio is the share of calls that may be retried (0.1 = 10 %).
	RetryBudgetRatio float64
	// RetryBudgetReserve is a small allowance of retries on top of the ratio so that a quiet
	// instance can still retry its first failures. Negative means none.
	RetryBudgetReserve float64
	// BreakerFailures is the number of consecutive outage-class call failures, each of a
	// different consumer, that opens a base URL's breaker (see breaker.go for what counts).
	BreakerFailures uint32
	// BreakerOpenTimeout is how long a breaker stays open before letting one probe through.
	BreakerOpenTimeout time.Duration
	// TokenRefreshMargin is how long before its expiry an access token is replaced.
	TokenRefreshMargin time.Duration
	// AssertionLifetime is exp - iat of the JWT assertion; at most 15 minutes.
	AssertionLifetime time.Duration
	// MaxBodyBytes caps every response body read from D1.
	MaxBodyBytes int64
}

// WithDefaults returns a copy of c with every zero tunable set to its default.
func (c Config) WithDefaults() Config {
	setDur := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	setDur(&c.Timeout, DefaultTimeout)
	setDur(&c.AttemptTimeout, DefaultAttemptTimeout)
	setDur(&c.CacheTTL, DefaultCacheTTL)
	setDur(&c.StaleMaxAge, DefaultStaleMaxAge)
	setDur(&c.BackoffBase, DefaultBackoffBase)
	setDur(&c.BackoffMax, DefaultBackoffMax)
	setDur(&c.RetryAfterMax, DefaultRetryAfterMax)
	setDur(&c.BreakerOpenTimeout, DefaultBreakerOpenTimeout)
	setDur(&c.TokenRefreshMargin, DefaultTokenRefreshMargin)
	setDur(&c.AssertionLifetime, DefaultAssertionLifetime)
	if c.CacheSize == 0 {
		c.CacheSize = DefaultCacheSize
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = DefaultMaxRetries
	}
	if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}
	if c.RetryBudgetRatio == 0 {
		c.RetryBudgetRatio = DefaultRetryBudgetRatio
	}
	if c.RetryBudgetReserve == 0 {
		c.RetryBudgetReserve = DefaultRetryBudgetReserve
	}
	if c.RetryBudgetReserve < 0 {
		c.RetryBudgetReserve = 0
	}
	if c.BreakerFailures == 0 {
		c.BreakerFailures = DefaultBreakerFailures
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return c
}

// Validate checks c after defaults are applied and returns every problem found, each naming
// the field. Key files are checked for readability here so that a bad path fails at start.
func (c Config) Validate() error {
	c = c.WithDefaults()
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &ConfigError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	for _, u := range []struct{ name, value string }{{"AuthzURL", c.AuthzURL}, {"BankingURL", c.BankingURL}} {
		if err := checkBaseURL(u.value); err != nil {
			bad(u.name, "%v", err)
		}
	}
	if !issuerIDPattern.MatchString(c.IssuerID) {
		bad("IssuerID", "must be exactly 10 characters of A-Z, a-z, 0-9, '_' or '-' (got %d characters)", len([]rune(c.IssuerID)))
	}
	if c.SigningKey == nil && c.SigningKeyFile == "" {
		bad("SigningKeyFile", "required (a PEM file holding the ES256 private key)")
	}
	if c.SigningKey == nil && c.SigningKeyFile != "" {
		if _, err := LoadSigningKey(c.SigningKeyFile); err != nil {
			bad("SigningKeyFile", "%v", err)
		}
	}
	if c.SigningKey != nil && c.SigningKey.Curve != elliptic.P256() {
		bad("SigningKey", "must be a P-256 key for ES256")
	}
	if c.KeyID == "" || len(c.KeyID) > 256 {
		bad("KeyID", "required, at most 256 characters")
	}
	if (c.ClientCertFile == "") != (c.ClientKeyFile == "") {
		bad("ClientCertFile", "set ClientCertFile and ClientKeyFile together, or neither")
	}
	for _, f := range []struct{ name, path string }{{"ClientCertFile", c.ClientCertFile}, {"ClientKeyFile", c.ClientKeyFile}, {"CAFile", c.CAFile}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			bad(f.name, "%v", err)
		}
	}
	positive := []struct {
		name string
		d    time.Duration
	}{
		{"Timeout", c.Timeout}, {"AttemptTimeout", c.AttemptTimeout}, {"CacheTTL", c.CacheTTL}, {"BackoffBase", c.BackoffBase},
		{"BackoffMax", c.BackoffMax}, {"RetryAfterMax", c.RetryAfterMax},
		{"BreakerOpenTimeout", c.BreakerOpenTimeout}, {"TokenRefreshMargin", c.TokenRefreshMargin},
		{"AssertionLifetime", c.AssertionLifetime},
	}
	for _, p := range positive {
		if p.d < 0 {
			bad(p.name, "must not be negative")
		}
	}
	if c.AssertionLifetime > MaxAssertionLifetime {
		bad("AssertionLifetime", "at most %s (D1 rejects a later exp)", MaxAssertionLifetime)
	}
	if c.MaxRetries > 2 {
		bad("MaxRetries", "at most 2")
	}
	if c.RetryBudgetRatio < 0 || c.RetryBudgetRatio > 1 {
		bad("RetryBudgetRatio", "must be between 0 and 1")
	}
	if c.CacheSize < 0 {
		bad("CacheSize", "must not be negative")
	}
	if c.MaxBodyBytes < 1024 {
		bad("MaxBodyBytes", "at least 1024")
	}
	return errors.Join(errs...)
}

// ConfigError is one invalid Config field. Validate joins them with errors.Join, so callers
// that load the fields from elsewhere (environment variables) can name their own source.
type ConfigError struct {
	Field  string
	Reason string
}

func (e *ConfigError) Error() string { return "d1: config: " + e.Field + ": " + e.Reason }

// checkBaseURL accepts an absolute http(s) URL without query or fragment.
func checkBaseURL(raw string) error {
	if raw == "" {
		return errors.New("required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return errors.New("scheme must be https (or http for a local sandbox)")
	}
	if u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return errors.New("must be an absolute URL with a host and no query, fragment or user info")
	}
	return nil
}

// LoadSigningKey reads a P-256 private key from a PEM file (PKCS#8 "PRIVATE KEY" or SEC 1
// "EC PRIVATE KEY"). Errors never contain key material.
func LoadSigningKey(path string) (*ecdsa.PrivateKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("d1: read signing key: %w", err)
	}
	return ParseSigningKeyPEM(data)
}

// ParseSigningKeyPEM parses a P-256 private key from PEM bytes.
func ParseSigningKeyPEM(data []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("d1: signing key: no PEM block found")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("d1: signing key: unexpected PEM block %q", block.Type)
	}
	if err != nil {
		return nil, errors.New("d1: signing key: cannot parse the private key")
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("d1: signing key: must be an ECDSA P-256 key (ES256)")
	}
	return ec, nil
}

package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"ctpdesk/internal/sqldialect"
)

// Mode says which command loaded the configuration: dev fills in everything it can, serve
// demands every production setting.
type Mode string

// Modes.
const (
	ModeDev   Mode = "dev"
	ModeServe Mode = "serve"
)

// DefaultSignInRate is CTPDESK_SIGNIN_RATE's default: sign-in requests per minute and client
// address. A person signing in makes two.
const DefaultSignInRate = 30

// DefaultAddr is CTPDESK_ADDR's default: loopback, port 8080, as the README says.
const DefaultAddr = "127.0.0.1:8080"

// Dev-mode file names inside CTPDESK_DATA_DIR.
const (
	DevDashboardDBFile = "ctpdesk.db"
	DevIssuerDBFile    = "issuer.db"
)

// DashboardDatabaseURL is the dashboard's own database: CTPDESK_DATABASE_URL, or in dev the
// SQLite file in the data directory.
func (c Config) DashboardDatabaseURL() string {
	if u := c.DatabaseURL.Reveal(); u != "" {
		return u
	}
	return "sqlite:" + filepath.Join(c.DataDir, DevDashboardDBFile)
}

// IssuerDatabaseURL is the issuer's records: CTPDESK_ISSUER_DATABASE_URL, or in dev the
// SQLite file in the data directory that `ctpdesk dev` seeds.
func (c Config) IssuerDatabaseURL() string {
	if u := c.IssuerDBURL.Reveal(); u != "" {
		return u
	}
	return "sqlite:" + filepath.Join(c.DataDir, DevIssuerDBFile)
}

// Secret is a configuration value that must never be printed: logs, errors and %v show
// "[redacted]". Reveal returns the value to the one place that needs it.
type Secret string

// String redacts the secret so fmt never prints it.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// LogValue redacts the secret in slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// Config is every setting of ctpdesk, read once from CTPDESK_* variables by Load and
// validated there. The README's configuration table lists each variable.
type Config struct {
	Mode           Mode
	Addr           string         // CTPDESK_ADDR
	PublicURL      *url.URL       // CTPDESK_PUBLIC_URL; in dev derived from the bound address when unset
	LogLevel       slog.Level     // CTPDESK_LOG_LEVEL
	TrustedProxies []netip.Prefix // CTPDESK_TRUSTED_PROXIES
	DataDir        string         // CTPDESK_DATA_DIR; dev keeps its SQLite files and keys here
	DatabaseURL    Secret         // CTPDESK_DATABASE_URL: sessions, audit trail
	IssuerDBURL    Secret         // CTPDESK_ISSUER_DATABASE_URL: the issuer's records (read-only)
	ShutdownGrace  time.Duration  // CTPDESK_SHUTDOWN_GRACE
	// MetricsNetworks may scrape /metrics without signing in (CTPDESK_METRICS_NETWORKS). None
	// by default: the scrapers' network must be named (see metricsNetworks).
	MetricsNetworks []netip.Prefix
	// SignInRate bounds the sign-in requests per minute of one client address
	// (CTPDESK_SIGNIN_RATE).
	SignInRate int
	OIDC       OIDCConfig    // CTPDESK_OIDC_*, CTPDESK_DEVIDP_* (auth.go)
	Roles      RoleConfig    // CTPDESK_ROLE_*
	Session    SessionConfig // CTPDESK_SESSION_*, CTPDESK_COOKIE_SECURE
	Audit      AuditConfig   // CTPDESK_AUDIT_* (audit.go)
	D1         D1Config      // CTPDESK_D1_*, CTPDESK_SANDBOX_* (d1.go)
	Issuer     IssuerConfig  // CTPDESK_PHONE_REGION, CTPDESK_DEV_CUSTOMERS (issuer.go)
	Reveal     RevealConfig  // CTPDESK_REVEAL_* (reveal.go)
	Scan       ScanConfig    // CTPDESK_SCAN_* (scan.go)
}

// LogValue prints the configuration without its secrets.
func (c Config) LogValue() slog.Value {
	public := ""
	if c.PublicURL != nil {
		public = c.PublicURL.String()
	}
	return slog.GroupValue(
		slog.String("mode", string(c.Mode)),
		slog.String("addr", c.Addr),
		slog.String("public_url", public),
		slog.String("log_level", c.LogLevel.String()),
		slog.Int("trusted_proxies", len(c.TrustedProxies)),
		slog.Int("metrics_networks", len(c.MetricsNetworks)),
		slog.Int("signin_rate_per_minute", c.SignInRate),
		slog.String("data_dir", c.DataDir),
		slog.String("database_url", RedactURL(c.DatabaseURL.Reveal())),
		slog.String("issuer_database_url", RedactURL(c.IssuerDBURL.Reveal())),
		slog.String("audit_retention", FormatDays(c.Audit.Retention)),
		slog.Int64("audit_checkpoint_every", c.Audit.CheckpointEvery),
		slog.String("audit_witness", c.AuditWitnessFile()),
		slog.String("oidc_issuer", c.OIDC.Issuer),
		slog.String("oidc_client_id", c.OIDC.ClientID),
		slog.Bool("oidc_public_client", c.OIDC.ClientSecret == ""),
		slog.String("session_idle", c.Session.Idle.String()),
		slog.String("session_max", c.Session.Max.String()),
		slog.Int("reveal_per_minute", c.Reveal.PerMinute),
		slog.Int("reveal_per_day", c.Reveal.PerDay),
		slog.String("issuer_searches", c.Issuer.searchesShown()),
		slog.Float64("scan_rate", c.Scan.Rate),
		slog.String("scan_schedule", c.Scan.Schedule),
	)
}

// redactURL hides the password of a database URL and keeps the rest readable.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if strings.HasPrefix(raw, "sqlite:") {
			return raw
		}
		if err != nil {
			return "[unparseable]"
		}
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "redacted")
	}
	return u.String()
}

// Load reads and validates the configuration for mode. Every problem is reported at once,
// each naming its variable.
func Load(getenv func(string) string, mode Mode) (Config, error) {
	r := &envReader{getenv: getenv}
	c := load(r, mode)
	if err := r.err(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// load reads every setting through r; r collects the problems.
func load(r *envReader, mode Mode) Config {
	c := Config{Mode: mode}
	c.Addr = r.addr("CTPDESK_ADDR", DefaultAddr)
	c.PublicURL = r.url("CTPDESK_PUBLIC_URL", "")
	c.LogLevel = r.logLevel("CTPDESK_LOG_LEVEL", slog.LevelInfo)
	c.TrustedProxies = r.prefixes("CTPDESK_TRUSTED_PROXIES")
	c.MetricsNetworks = r.metricsNetworks("CTPDESK_METRICS_NETWORKS")
	c.SignInRate = r.integer("CTPDESK_SIGNIN_RATE", DefaultSignInRate, 1, 6000)
	c.DataDir = r.str("CTPDESK_DATA_DIR", "data")
	c.ShutdownGrace = r.duration("CTPDESK_SHUTDOWN_GRACE", 20*time.Second, time.Second, 5*time.Minute)
	c.DatabaseURL = Secret(r.dbURL("CTPDESK_DATABASE_URL", ""))
	c.IssuerDBURL = Secret(r.dbURL("CTPDESK_ISSUER_DATABASE_URL", ""))
	loadAuthConfig(r, &c)
	c.Audit = r.auditConfig(mode)
	r.witnessApartFromDatabase(c)
	loadD1Config(r, &c)
	c.Issuer = r.issuerConfig()
	c.Reveal = r.revealConfig()
	c.Scan = r.scanConfig()

	if mode == ModeServe {
		r.require("CTPDESK_PUBLIC_URL")
		r.require("CTPDESK_DATABASE_URL")
		r.require("CTPDESK_ISSUER_DATABASE_URL")
		if c.PublicURL != nil && c.PublicURL.Scheme != "https" {
			r.fail("CTPDESK_PUBLIC_URL", "must be an https:// URL in production")
		}
	}
	return c
}

// envReader reads typed values from the environment and collects one error per bad variable.
// It also notes every variable it reads, with the default it would use, for --help.
type envReader struct {
	getenv func(string) string
	errs   []error
	read   []Variable
}

// Variable is one setting as the configuration reads it: its name and the default used when
// it is unset ("" for none).
type Variable struct {
	Name    string
	Default string
}

// note records that name was read with default def; the first read of a name wins.
func (r *envReader) note(name string, def any) {
	for _, v := range r.read {
		if v.Name == name {
			return
		}
	}
	d := fmt.Sprint(def)
	if list, ok := def.([]string); ok {
		d = strings.Join(list, ",")
	}
	if d == "0s" || d == "[]" || d == "<nil>" {
		d = ""
	}
	r.read = append(r.read, Variable{Name: name, Default: d})
}

// Variables lists every CTPDESK_* variable the configuration reads in mode, in the order it
// reads them, with the defaults it uses when the environment is otherwise empty.
func Variables(mode Mode) []Variable {
	r := &envReader{getenv: func(string) string { return "" }}
	load(r, mode)
	return r.read
}

func (r *envReader) fail(name, format string, args ...any) {
	r.errs = append(r.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

func (r *envReader) err() error { return errors.Join(r.errs...) }

// failed says whether a problem has already been reported for the variable name, so a second
// check of the same value does not say the same thing twice.
func (r *envReader) failed(name string) bool {
	for _, e := range r.errs {
		if strings.HasPrefix(e.Error(), name+": ") {
			return true
		}
	}
	return false
}

// raw returns the trimmed value and whether the variable was set to something.
func (r *envReader) raw(name string) (string, bool) {
	r.note(name, "")
	v := strings.TrimSpace(r.getenv(name))
	return v, v != ""
}

func (r *envReader) require(name string) {
	if _, ok := r.raw(name); !ok {
		r.fail(name, "is required by 'ctpdesk serve'")
	}
}

func (r *envReader) str(name, def string) string {
	r.note(name, def)
	if v, ok := r.raw(name); ok {
		if strings.ContainsFunc(v, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
			r.fail(name, "must not contain control characters")
			return def
		}
		return v
	}
	return def
}

func (r *envReader) list(name string, def []string) []string {
	r.note(name, def)
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	var out []string
	for _, part := range strings.Split(v, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (r *envReader) integer(name string, def, min, max int) int {
	r.note(name, def)
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		r.fail(name, "%q is not a whole number", v)
		return def
	}
	if n < min || n > max {
		r.fail(name, "%d is out of range [%d, %d]", n, min, max)
		return def
	}
	return n
}

func (r *envReader) boolean(name string, def bool) bool {
	r.note(name, def)
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, "%q is not true or false", v)
		return def
	}
	return b
}

func (r *envReader) duration(name string, def, min, max time.Duration) time.Duration {
	r.note(name, def)
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		r.fail(name, "%q is not a duration such as 30s or 15m", v)
		return def
	}
	if d < min || d > max {
		r.fail(name, "%s is out of range [%s, %s]", d, min, max)
		return def
	}
	return d
}

func (r *envReader) addr(name, def string) string {
	v := r.str(name, def)
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		r.fail(name, "%q is not host:port", v)
		return def
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		r.fail(name, "port %q is not a number between 0 and 65535", port)
		return def
	}
	_ = host
	return v
}

func (r *envReader) url(name, def string) *url.URL {
	v := r.str(name, def)
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.fail(name, "%q is not an absolute http(s) URL", v)
		return nil
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		r.fail(name, "must not carry credentials, a query or a fragment")
		return nil
	}
	return u
}

func (r *envReader) dbURL(name, def string) string {
	v := r.str(name, def)
	if v == "" {
		return ""
	}
	if _, err := sqldialect.ParseURL(v); err != nil {
		r.fail(name, "%v", err)
		return ""
	}
	return v
}

func (r *envReader) logLevel(name string, def slog.Level) slog.Level {
	r.note(name, def)
	v, ok := r.raw(name)
	if !ok {
		return def
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		r.fail(name, "%q is not one of debug, info, warn, error", v)
		return def
	}
	return l
}

func (r *envReader) prefixes(name string) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range r.list(name, nil) {
		if !strings.Contains(p, "/") {
			a, err := netip.ParseAddr(p)
			if err != nil {
				r.fail(name, "%q is not an IP address or CIDR", p)
				continue
			}
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		pre, err := netip.ParsePrefix(p)
		if err != nil {
			r.fail(name, "%q is not an IP address or CIDR", p)
			continue
		}
		out = append(out, pre.Masked())
	}
	return out
}

// metricsNetworks reads the networks that may scrape /metrics without signing in. Unset (or
// "none") means no network at all: behind a sidecar proxy every request comes from loopback,
// so even loopback must be named to be let in. A network that spans a large part of the
// address space (shorter than /8 for IPv4, /16 for IPv6, IPv4-mapped forms included) is
// refused: it would open the metrics to nearly everyone, which is not a monitoring network.
func (r *envReader) metricsNetworks(name string) []netip.Prefix {
	v, ok := r.raw(name)
	if !ok || strings.EqualFold(v, "none") {
		return nil
	}
	var out []netip.Prefix
	for _, p := range r.prefixes(name) {
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			// Client addresses are compared unmapped, so the IPv4 form is what this means.
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96).Masked()
		}
		if (p.Addr().Is4() && p.Bits() < 8) || (p.Addr().Is6() && p.Bits() < 16) {
			r.fail(name, "%s spans too much of the address space: name the monitoring network itself", p)
			continue
		}
		out = append(out, p)
	}
	return out
}

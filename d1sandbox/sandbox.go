// Package d1sandbox is a D1 stand-in speaking the same wire API as the real one (token endpoint
// and get Click to Pay profiles), so that development, demos and tests need no D1 account. It
// verifies the ES256 assertion for real, derives each consumer's directory profiles
// deterministically from the issuer portfolio (see Derive), and misbehaves on request (Fault).
package d1sandbox

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"ctpdesk/d1"
	"ctpdesk/issuerdb"
)

// PortfolioSource gives the sandbox the issuer's customers. *issuerdb.DB implements it; the
// customer returned must have its Cards filled in. An unknown consumer is issuerdb.ErrNotFound.
type PortfolioSource interface {
	CustomerByConsumerID(ctx context.Context, consumerID string) (issuerdb.Customer, error)
}

// Options configure a sandbox.
type Options struct {
	// IssuerID is the only issuer the sandbox knows (exactly 10 characters).
	IssuerID string
	// Keys are the public keys trusted for assertions, by kid. When empty, New generates a
	// throwaway P-256 key; GeneratedKey returns it.
	Keys map[string]*ecdsa.PublicKey
	// Audience, when set, must be the assertion's aud.
	Audience string
	// Portfolio supplies the customers.
	Portfolio PortfolioSource
	// Seed selects the scenarios (use the portfolio's seed so both sides agree).
	Seed int64
	// Fault is the initial global fault.
	Fault Fault
	// ConsumerFaults are the initial per-consumer faults.
	ConsumerFaults map[string]Fault
	// TokenLifetime is the access token lifetime; default 900 s.
	TokenLifetime time.Duration
	// Now is the clock; default time.Now. Tests share a fake clock with the client.
	Now func() time.Time
	// Logger receives one line per request; default discards.
	Logger *slog.Logger
}

// Server is the sandbox: an http.Handler plus the fault-injection and inspection API.
type Server struct {
	opts    Options
	mux     *http.ServeMux
	log     *slog.Logger
	genKID  string
	genKey  *ecdsa.PrivateKey
	closed  chan struct{}
	closeMu sync.Once

	mu          sync.Mutex
	global      Fault
	perConsumer map[string]Fault
	answers     map[string]Answer
	tokens      map[string]grant
	seenJTI     map[string]time.Time
	byConsumer  map[string]int

	tokenRequests   atomic.Int64
	profileRequests atomic.Int64
}

// grant is an issued access token.
type grant struct {
	issuer  string
	expires time.Time
}

// Patterns of the identifiers the sandbox validates (from the D1 documentation).
var (
	issuerIDPattern   = regexp.MustCompile(`^[A-Za-z0-9_-]{10}$`)
	consumerIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// New builds a sandbox. Mount it at the root of a server: it answers
// POST /authz/v1/oauth2/token and GET /banking/v1/issuers/{issuerId}/consumers/{consumerId}/clickToPayProfiles.
func New(opts Options) (*Server, error) {
	if !issuerIDPattern.MatchString(opts.IssuerID) {
		return nil, errors.New("sandbox: issuer id must be exactly 10 characters of A-Z, a-z, 0-9, '_' or '-'")
	}
	if opts.Portfolio == nil {
		return nil, errors.New("sandbox: a portfolio is required")
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = 900 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts: opts, log: opts.Logger, closed: make(chan struct{}),
		global: opts.Fault, perConsumer: map[string]Fault{}, answers: map[string]Answer{},
		tokens: map[string]grant{}, seenJTI: map[string]time.Time{}, byConsumer: map[string]int{},
	}
	for id, f := range opts.ConsumerFaults {
		s.perConsumer[id] = f
	}
	keys := map[string]*ecdsa.PublicKey{}
	for kid, k := range opts.Keys {
		if kid == "" || k == nil || k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("sandbox: key %q must be a P-256 public key with a kid", kid)
		}
		keys[kid] = k
	}
	if len(keys) == 0 {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("sandbox: generate key: %w", err)
		}
		var b [4]byte
		_, _ = rand.Read(b[:])
		s.genKID, s.genKey = "sandbox-"+hex.EncodeToString(b[:]), key
		keys[s.genKID] = &key.PublicKey
	}
	s.opts.Keys = keys
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /authz/v1"+d1.TokenPath, s.handleToken)
	s.mux.HandleFunc("GET /banking/v1/issuers/{issuerId}/consumers/{consumerId}/"+d1.ProfilesPathSuffix, s.handleProfiles)
	return s, nil
}

// ServeHTTP dispatches to the two endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close releases requests held open by the Hang fault.
func (s *Server) Close() { s.closeMu.Do(func() { close(s.closed) }) }

// IssuerID returns the issuer id the sandbox serves.
func (s *Server) IssuerID() string { return s.opts.IssuerID }

// GeneratedKey returns the throwaway signing key made by New when no key was configured, so
// `ctpdesk dev` can hand it to the client in memory. ok is false when keys were configured.
func (s *Server) GeneratedKey() (kid string, key *ecdsa.PrivateKey, ok bool) {
	return s.genKID, s.genKey, s.genKey != nil
}

// PublicKeysPEM returns the trusted public keys as PEM ("PUBLIC KEY" blocks), by kid.
func (s *Server) PublicKeysPEM() (map[string][]byte, error) {
	out := map[string][]byte{}
	for kid, k := range s.opts.Keys {
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			return nil, fmt.Errorf("sandbox: marshal public key: %w", err)
		}
		out[kid] = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}
	return out, nil
}

// Stats counts the requests the sandbox received.
type Stats struct {
	TokenRequests   int64
	ProfileRequests int64
}

// Stats returns the request counters.
func (s *Server) Stats() Stats {
	return Stats{TokenRequests: s.tokenRequests.Load(), ProfileRequests: s.profileRequests.Load()}
}

// ProfileRequestsFor returns how many profile requests named the consumer.
func (s *Server) ProfileRequestsFor(consumerID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byConsumer[consumerID]
}

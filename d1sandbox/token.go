package d1sandbox

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"ctpdesk/d1"
)

// maxTokenBody caps the token request body; an assertion is well under 4 KiB.
const maxTokenBody = 64 << 10

// AssertionError says why an assertion was refused. Field is the D1-style field name reported
// in the error body.
type AssertionError struct {
	Code   string // FIELD_INVALID_FORMAT or FIELD_INVALID_VALUE
	Field  string
	Reason string
}

func (e *AssertionError) Error() string {
	return fmt.Sprintf("sandbox: %s %s: %s", e.Code, e.Field, e.Reason)
}

func invalidFormat(field, reason string) *AssertionError {
	return &AssertionError{Code: "FIELD_INVALID_FORMAT", Field: field, Reason: reason}
}

func invalidValue(field, reason string) *AssertionError {
	return &AssertionError{Code: "FIELD_INVALID_VALUE", Field: field, Reason: reason}
}

// AssertionClaims are the claims the sandbox reads from an assertion.
type AssertionClaims struct {
	jwt.Claims
}

// VerifyAssertion checks a JWT bearer assertion as D1 does: compact JWS, ES256 only, a known
// kid, a valid signature, iss = sub = the issuer id, exp in the future and at most 15 minutes
// ahead, aud when one is configured, and a jti not seen before (replay). It never panics on
// hostile input.
func (s *Server) VerifyAssertion(assertion string, now time.Time) (AssertionClaims, error) {
	var claims AssertionClaims
	if assertion == "" || len(assertion) > 8192 {
		return claims, invalidFormat("assertion", "missing or too long")
	}
	tok, err := jwt.ParseSigned(assertion, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return claims, invalidFormat("assertion", "not a compact ES256 JWS")
	}
	if len(tok.Headers) != 1 {
		return claims, invalidFormat("assertion", "exactly one signature expected")
	}
	h := tok.Headers[0]
	if h.Algorithm != string(jose.ES256) {
		return claims, invalidValue("alg", "only ES256 is accepted")
	}
	if h.KeyID == "" {
		return claims, invalidFormat("kid", "the header must carry a kid")
	}
	key, ok := s.opts.Keys[h.KeyID]
	if !ok {
		return claims, invalidValue("kid", "unknown key id")
	}
	if err := tok.Claims(key, &claims); err != nil {
		return claims, invalidValue("assertion", "signature or claims invalid")
	}
	switch {
	case claims.Issuer != s.opts.IssuerID:
		return claims, invalidValue("iss", "not the issuer id")
	case claims.Subject != s.opts.IssuerID:
		return claims, invalidValue("sub", "not the issuer id")
	case claims.Expiry == nil:
		return claims, invalidFormat("exp", "required")
	}
	exp := claims.Expiry.Time()
	switch {
	case !exp.After(now):
		return claims, invalidValue("exp", "expired")
	case exp.After(now.Add(d1.MaxAssertionLifetime)):
		return claims, invalidValue("exp", "more than 15 minutes ahead")
	case claims.IssuedAt != nil && claims.IssuedAt.Time().After(now.Add(time.Minute)):
		return claims, invalidValue("iat", "in the future")
	case s.opts.Audience != "" && !slices.Contains(claims.Audience, s.opts.Audience):
		return claims, invalidValue("aud", "wrong audience")
	}
	if claims.ID != "" {
		s.mu.Lock()
		defer s.mu.Unlock()
		for jti, until := range s.seenJTI {
			if !until.After(now) {
				delete(s.seenJTI, jti)
			}
		}
		if _, seen := s.seenJTI[claims.ID]; seen {
			return claims, invalidValue("jti", "assertion replayed")
		}
		s.seenJTI[claims.ID] = exp
	}
	return claims, nil
}

// tokenRequest is the JSON form of the token request.
type tokenRequest struct {
	GrantType string `json:"grant_type"`
	Assertion string `json:"assertion"`
}

// handleToken serves POST /authz/v1/oauth2/token.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	s.tokenRequests.Add(1)
	f := s.takeFault("")
	if !s.delay(w, r, f) {
		return
	}
	if f.TokenDown {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "Service Unavailable"})
		return
	}
	if id := r.Header.Get(d1.HeaderCorrelationID); id != "" && !consumerIDPattern.MatchString(id) {
		writeD1Error(w, http.StatusBadRequest, "FIELD_INVALID_FORMAT", d1.HeaderCorrelationID)
		return
	}
	req, err := readTokenRequest(r)
	if err != nil {
		writeD1Error(w, http.StatusBadRequest, "FIELD_INVALID_FORMAT", err.Error())
		return
	}
	if req.GrantType != d1.GrantTypeJWTBearer {
		writeD1Error(w, http.StatusBadRequest, "FIELD_INVALID_VALUE", "grant_type")
		return
	}
	now := s.opts.Now()
	claims, err := s.VerifyAssertion(req.Assertion, now)
	if err != nil {
		var ae *AssertionError
		if errors.As(err, &ae) {
			s.log.Info("sandbox: assertion refused", "field", ae.Field, "reason", ae.Reason)
			writeD1Error(w, http.StatusBadRequest, ae.Code, ae.Field)
			return
		}
		writeD1Error(w, http.StatusBadRequest, "FIELD_INVALID_VALUE", "assertion")
		return
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "Internal Server Error"})
		return
	}
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	s.mu.Lock()
	for t, g := range s.tokens {
		if !g.expires.After(now) {
			delete(s.tokens, t)
		}
	}
	s.tokens[token] = grant{issuer: claims.Issuer, expires: now.Add(s.opts.TokenLifetime)}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": token,
		"expires_in":   int(s.opts.TokenLifetime / time.Second),
		"scope":        "d1-api:consumer:read",
		"token_type":   "Bearer",
	})
}

// readTokenRequest reads the form or JSON body of a token request.
func readTokenRequest(r *http.Request) (tokenRequest, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxTokenBody+1))
	if err != nil || len(body) > maxTokenBody {
		return tokenRequest{}, errors.New("body")
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return tokenRequest{}, errors.New("Content-Type")
	}
	switch mt {
	case "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return tokenRequest{}, errors.New("body")
		}
		return tokenRequest{GrantType: v.Get("grant_type"), Assertion: v.Get("assertion")}, nil
	case "application/json":
		var t tokenRequest
		if err := json.Unmarshal(body, &t); err != nil {
			return tokenRequest{}, errors.New("body")
		}
		return t, nil
	default:
		return tokenRequest{}, errors.New("Content-Type")
	}
}

// writeD1Error writes a D1-style error body.
func writeD1Error(w http.ResponseWriter, status int, code, field string) {
	writeJSON(w, status, map[string]string{"errorCode": code, "error": field})
}

// writeJSON writes v as a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// TestConformance mirrors the OpenID Foundation's RP conformance cases: each subtest is named
// after the case it covers (oidcc-client-test-…); cases the suite has no name for carry a
// ctpdesk- prefix. The fake provider misbehaves in one way and the RP must refuse the sign-in,
// with a stable reason and no session.
func TestConformance(t *testing.T) {
	cases := []struct {
		name   string
		setup  func(tb testing.TB, h *harness)
		reason string
		detail string
	}{
		{"oidcc-client-test-invalid-iss", func(_ testing.TB, h *harness) {
			h.op.set(func(op *fakeOP) { op.mutate = func(c map[string]any) { c["iss"] = "https://evil.example" } })
		}, ReasonIDTokenInvalid, "different provider"},
		{"oidcc-client-test-missing-sub", func(_ testing.TB, h *harness) {
			h.op.set(func(op *fakeOP) { op.mutate = func(c map[string]any) { delete(c, "sub") } })
		}, ReasonIDTokenInvalid, "no sub"},
		{"oidcc-client-test-invalid-aud", func(_ testing.TB, h *harness) {
			h.op.set(func(op *fakeOP) { op.mutate = func(c map[string]any) { c["aud"] = "someone-else" } })
		}, ReasonIDTokenInvalid, "audience"},
		{"oidcc-client-test-missing-iat", func(_ testing.TB, h *harness) {
			h.op.set(func(op *fakeOP) { op.mutate = func(c map[string]any) { delete(c, "iat") } })
		}, ReasonIDTokenInvalid, "no iat"},
		{"ctpdesk-expired-exp", func(_ testing.TB, h *harness) {
			h.op.set(func(op *fakeOP) {
				op.mutate = func(c map[string]any) { c["exp"] = h.clock.Now().Add(-time.Minute).Unix() }
			})
		}, ReasonIDTokenInvalid, "expired"},
		{"ctpdesk-nbf-in-future", func(_ testing.TB, h *harness) {
			h.op.set(func(op *fakeOP) {
				op.mutate = func(c map[string]any) { c["nbf"] = h.clock.Now().Add(time.Hour).Unix() }
			})
		}, ReasonIDTokenInvalid, "nbf"},
		{"oidcc-client-test-invalid-sig-rs256", func(tb testing.TB, h *harness) {
			// Same kid as the published key, different private key: the signature is wrong.
			forged := newRSAKey(tb, "k1")
			h.op.set(func(op *fakeOP) { op.signer = forged })
		}, ReasonIDTokenInvalid, "signature"},
		{"oidcc-client-test-invalid-sig-es256", func(tb testing.TB, h *harness) {
			good, forged := newECKey(tb, "e1"), newECKey(tb, "e1")
			h.op.set(func(op *fakeOP) { op.published = []opKey{good}; op.signer = forged })
		}, ReasonIDTokenInvalid, "signature"},
		{"oidcc-client-test-idtoken-sig-none", func(tb testing.TB, h *harness) {
			h.op.set(func(op *fakeOP) { op.rawIDToken = func(c map[string]any) string { return unsignedJWT(tb, c) } })
		}, ReasonIDTokenInvalid, `algorithm "none"`},
		{"oidcc-client-test-invalid-sig-hs256", func(tb testing.TB, h *harness) {
			// A correct HS256 signature keyed with the client secret: the RP knows that secret
			// too, so such a token proves nothing and the algorithm is off the allow-list.
			h.op.set(func(op *fakeOP) {
				secret := []byte(op.clientSecret)
				op.rawIDToken = func(c map[string]any) string {
					s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, (&jose.SignerOptions{}).WithType("JWT"))
					if err != nil {
						tb.Fatal(err)
					}
					return signWith(tb, s, c)
				}
			})
		}, ReasonIDTokenInvalid, `algorithm "HS256"`},
		{"ctpdesk-iat-in-future", func(_ testing.TB, h *harness) {
			// Signed now, claiming to be issued in an hour: a provider clock this far off (or a
			// token minted ahead of use) is refused; go-oidc checks only exp and nbf.
			h.op.set(func(op *fakeOP) {
				op.mutate = func(c map[string]any) {
					c["iat"] = h.clock.Now().Add(time.Hour).Unix()
					c["exp"] = h.clock.Now().Add(2 * time.Hour).Unix()
				}
			})
		}, ReasonIDTokenInvalid, "issued in the future"},
		{"ctpdesk-azp-other-client", func(_ testing.TB, h *harness) {
			// A token for two audiences whose authorized party is the other one was issued to
			// that client, not to ctpdesk; go-oidc checks only that aud contains ctpdesk.
			h.op.set(func(op *fakeOP) {
				op.mutate = func(c map[string]any) { c["aud"] = []string{op.clientID, "other-app"}; c["azp"] = "other-app" }
			})
		}, ReasonIDTokenInvalid, "azp"},
		{"ctpdesk-azp-missing-with-several-audiences", func(_ testing.TB, h *harness) {
			h.op.set(func(op *fakeOP) {
				op.mutate = func(c map[string]any) { c["aud"] = []string{op.clientID, "other-app"} }
			})
		}, ReasonIDTokenInvalid, "azp"},
		{"oidcc-client-test-nonce-invalid", func(_ testing.TB, h *harness) {
			h.op.set(func(op *fakeOP) { op.mutate = func(c map[string]any) { c["nonce"] = "not-the-nonce-we-sent" } })
		}, ReasonNonce, "nonce"},
		{"oidcc-client-test-userinfo-invalid-sub", func(_ testing.TB, h *harness) {
			// Groups are absent from the ID token, so the RP asks userinfo, which answers for
			// another subject.
			h.op.set(func(op *fakeOP) { op.groupsInIDToken = false; op.userinfoSub = "someone-else" })
		}, ReasonUserInfo, "userinfo sub"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			tc.setup(t, h)
			w, _, err := h.login(t)
			t.Logf("refused: %v", err)
			h.wantRefused(t, w, err, tc.reason, tc.detail)
		})
	}
}

// TestConformanceUnknownKid: a token signed with a kid the provider never published is refused
// after exactly one extra JWKS fetch (oidcc-client-test-kid-absent / signing key unknown).
func TestConformanceUnknownKid(t *testing.T) {
	t.Run("ctpdesk-unknown-kid-after-one-jwks-refetch", func(t *testing.T) {
		h := newHarness(t)
		if _, _, err := h.login(t); err != nil {
			t.Fatalf("first sign-in: %v", err)
		}
		before := h.op.jwksFetches
		stray := newRSAKey(t, "never-published")
		h.op.set(func(op *fakeOP) { op.signer = stray })
		w, _, err := h.login(t)
		h.op.mu.Lock()
		fetches := h.op.jwksFetches - before
		h.op.mu.Unlock()
		if fetches != 1 {
			t.Errorf("JWKS fetched %d times for an unknown kid, want exactly 1 re-fetch", fetches)
		}
		// The first sign-in made one session; clear it so wantRefused counts only this one.
		if _, err := h.db.ExecContext(context.Background(), "DELETE FROM auth_sessions"); err != nil {
			t.Fatal(err)
		}
		h.wantRefused(t, w, err, ReasonIDTokenInvalid, "")
	})
}

// TestConformanceKeyRotation: the provider starts signing with a new key; the RP fetches the
// new JWKS once and the sign-in succeeds (oidcc-client-test-signing-key-rotation).
func TestConformanceKeyRotation(t *testing.T) {
	t.Run("oidcc-client-test-signing-key-rotation", func(t *testing.T) {
		h := newHarness(t)
		if _, _, err := h.login(t); err != nil {
			t.Fatalf("sign-in before rotation: %v", err)
		}
		next := newRSAKey(t, "k2")
		h.op.set(func(op *fakeOP) { op.published = []opKey{next}; op.signer = next })
		_, u, err := h.login(t)
		if err != nil {
			t.Fatalf("sign-in after rotation: %v", err)
		}
		if u.Subject != "staff-0042" || !u.Has(RoleAgent) {
			t.Errorf("user after rotation = %+v", u)
		}
	})
}

// TestProviderSigningAlgorithms: providers sign with RSA, ECDSA or Ed25519 keys; each
// asymmetric algorithm on the allow-list signs a token that is accepted.
func TestProviderSigningAlgorithms(t *testing.T) {
	for name, mk := range map[string]func(testing.TB, string) opKey{"RS256": newRSAKey, "ES256": newECKey, "EdDSA": newEdKey} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			key := mk(t, "alg-"+name)
			h.op.set(func(op *fakeOP) { op.published = []opKey{key}; op.signer = key })
			if _, u, err := h.login(t); err != nil || !u.Has(RoleAgent) {
				t.Fatalf("sign-in with an %s key: %v (user %+v)", name, err, u)
			}
		})
	}
}

// TestConformanceDiscoveryIssuerMismatch: a discovery document naming another issuer stops the
// relying party from being built at all (oidcc-client-test-discovery-issuer-mismatch).
func TestConformanceDiscoveryIssuerMismatch(t *testing.T) {
	t.Run("oidcc-client-test-discovery-issuer-mismatch", func(t *testing.T) {
		clock := newTestClock()
		op := newFakeOP(t, clock)
		op.set(func(op *fakeOP) { op.discoveryIssuer = "https://impostor.example" })
		rp, err := NewRelyingParty(context.Background(), testRPConfig(op, clock))
		if err == nil || rp != nil {
			t.Fatalf("NewRelyingParty accepted a discovery document for another issuer")
		}
	})
}

// TestState covers the state parameter: missing, mismatched, and replayed callbacks are all
// refused, and none leaves a session.
func TestState(t *testing.T) {
	t.Run("ctpdesk-state-missing", func(t *testing.T) {
		h := newHarness(t)
		cookies, authURL := h.begin(t)
		code, _ := h.op.authorize(authURL)
		w, _, err := h.callback(t, cookies, url.Values{"code": {code}})
		h.wantRefused(t, w, err, ReasonStateMissing, "")
	})
	t.Run("ctpdesk-state-mismatch", func(t *testing.T) {
		h := newHarness(t)
		cookies, authURL := h.begin(t)
		code, _ := h.op.authorize(authURL)
		w, _, err := h.callback(t, cookies, url.Values{"code": {code}, "state": {newToken()}})
		h.wantRefused(t, w, err, ReasonStateMismatch, "")
	})
	t.Run("ctpdesk-state-without-prelogin-cookie", func(t *testing.T) {
		h := newHarness(t)
		_, authURL := h.begin(t)
		code, q := h.op.authorize(authURL)
		w, _, err := h.callback(t, nil, url.Values{"code": {code}, "state": {q.Get("state")}})
		h.wantRefused(t, w, err, ReasonNoPreLogin, "")
	})
	t.Run("ctpdesk-state-replayed", func(t *testing.T) {
		h := newHarness(t)
		cookies, authURL := h.begin(t)
		code, q := h.op.authorize(authURL)
		params := url.Values{"code": {code}, "state": {q.Get("state")}}
		if _, _, err := h.callback(t, cookies, params); err != nil {
			t.Fatalf("first callback: %v", err)
		}
		if _, err := h.db.ExecContext(context.Background(), "DELETE FROM auth_sessions"); err != nil {
			t.Fatal(err)
		}
		w, _, err := h.callback(t, cookies, params)
		h.wantRefused(t, w, err, ReasonNoPreLogin, "")
	})
	t.Run("ctpdesk-state-expired", func(t *testing.T) {
		h := newHarness(t)
		cookies, authURL := h.begin(t)
		code, q := h.op.authorize(authURL)
		h.clock.Advance(preLoginLifetime + time.Second)
		w, _, err := h.callback(t, cookies, url.Values{"code": {code}, "state": {q.Get("state")}})
		h.wantRefused(t, w, err, ReasonNoPreLogin, "")
	})
	t.Run("ctpdesk-provider-error", func(t *testing.T) {
		h := newHarness(t)
		cookies, authURL := h.begin(t)
		_, q := h.op.authorize(authURL)
		w, _, err := h.callback(t, cookies, url.Values{"error": {"access_denied"}, "state": {q.Get("state")}})
		h.wantRefused(t, w, err, ReasonProviderError, "access_denied")
	})
}

// TestLoginSucceeds is the control case: a well-behaved provider signs the user in with the
// expected identity and roles, and exactly one session row exists.
func TestLoginSucceeds(t *testing.T) {
	h := newHarness(t)
	w, u, err := h.login(t)
	if err != nil {
		t.Fatal(err)
	}
	want := User{Issuer: h.op.issuer(), Subject: "staff-0042", Name: "Ada Agent", Email: "ada@bank.example", Roles: []Role{RoleAgent}}
	if u.Issuer != want.Issuer || u.Subject != want.Subject || u.Name != want.Name || u.Email != want.Email || len(u.Roles) != 1 || u.Roles[0] != RoleAgent {
		t.Errorf("user = %+v, want %+v", u, want)
	}
	c := h.sessionCookie(w)
	if c == nil || !c.HttpOnly || !c.Secure || c.Path != "/" || c.Domain != "" || c.Name != "__Host-ctpdesk_sid" {
		t.Fatalf("session cookie = %+v", c)
	}
	if n := h.rows(t, "auth_sessions"); n != 1 {
		t.Errorf("%d session rows, want 1", n)
	}
	if n := h.rows(t, "auth_prelogins"); n != 0 {
		t.Errorf("%d pre-login rows left after use, want 0", n)
	}
}

// TestAuthenticationStrength: with CTPDESK_OIDC_REQUIRE_AMR or CTPDESK_OIDC_ACR_VALUES set, a
// sign-in whose ID token does not show multi-factor authentication is refused (mfa_missing,
// no session); one that does is accepted; and the acr asked for travels in the request.
func TestAuthenticationStrength(t *testing.T) {
	for _, tc := range []struct {
		name    string
		amr     []string
		acr     []string
		claims  map[string]any
		refused bool
	}{
		{"ctpdesk-amr-password-only", []string{"mfa", "otp", "hwk"}, nil, map[string]any{"amr": []string{"pwd"}}, true},
		{"ctpdesk-amr-missing", []string{"mfa"}, nil, map[string]any{}, true},
		{"ctpdesk-amr-wrong-shape", []string{"mfa"}, nil, map[string]any{"amr": map[string]any{"mfa": true}}, true},
		{"ctpdesk-amr-otp-accepted", []string{"mfa", "otp"}, nil, map[string]any{"amr": []string{"pwd", "otp"}}, false},
		{"ctpdesk-amr-single-string-accepted", []string{"mfa"}, nil, map[string]any{"amr": "mfa"}, false},
		{"ctpdesk-acr-too-weak", nil, []string{"urn:bank:loa:high"}, map[string]any{"acr": "urn:bank:loa:low"}, true},
		{"ctpdesk-acr-missing", nil, []string{"urn:bank:loa:high"}, map[string]any{}, true},
		{"ctpdesk-acr-accepted", nil, []string{"urn:bank:loa:high"}, map[string]any{"acr": "urn:bank:loa:high"}, false},
		{"ctpdesk-nothing-required", nil, nil, map[string]any{"amr": []string{"pwd"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.reconfigure(t, func(cfg *RPConfig) { cfg.RequireAMR, cfg.ACRValues = tc.amr, tc.acr })
			h.op.set(func(op *fakeOP) {
				op.mutate = func(c map[string]any) {
					for k, v := range tc.claims {
						c[k] = v
					}
				}
			})
			cookies, authURL := h.begin(t)
			code, q := h.op.authorize(authURL)
			if len(tc.acr) > 0 && q.Get("acr_values") != strings.Join(tc.acr, " ") {
				t.Errorf("acr_values = %q", q.Get("acr_values"))
			}
			w, _, err := h.callback(t, cookies, url.Values{"code": {code}, "state": {q.Get("state")}})
			if tc.refused {
				h.wantRefused(t, w, err, ReasonAuthStrength, "")
			} else if err != nil {
				t.Fatalf("sign-in refused: %v", err)
			}
		})
	}
}

// TestLoginAcceptsSeveralAudiencesWithOurAzp is the control case of the azp checks: a token
// for two audiences that names ctpdesk as its authorized party, and one whose iat is a little
// ahead (within the five minutes of clock skew allowed), are accepted.
func TestLoginAcceptsSeveralAudiencesWithOurAzp(t *testing.T) {
	h := newHarness(t)
	h.op.set(func(op *fakeOP) {
		op.mutate = func(c map[string]any) {
			c["aud"] = []string{op.clientID, "other-app"}
			c["azp"] = op.clientID
			c["iat"] = h.clock.Now().Add(4 * time.Minute).Unix()
		}
	})
	if _, u, err := h.login(t); err != nil || u.Subject != "staff-0042" {
		t.Fatalf("sign-in with azp = ctpdesk: %v (%+v)", err, u)
	}
}

// TestLoginNoRole: a verified person whose groups map to no role is refused and gets no
// session (deny by default).
func TestLoginNoRole(t *testing.T) {
	h := newHarness(t)
	h.op.set(func(op *fakeOP) { op.mutate = func(c map[string]any) { c["groups"] = []string{"marketing"} } })
	w, _, err := h.login(t)
	h.wantRefused(t, w, err, ReasonNoRole, "")
	var le *LoginError
	if ok := asLoginError(err, &le); !ok || le.User == nil || le.User.Subject != "staff-0042" {
		t.Errorf("no-role refusal does not carry the verified user: %+v", le)
	}
}

func asLoginError(err error, target **LoginError) bool {
	le, ok := err.(*LoginError)
	if ok {
		*target = le
	}
	return ok
}

// TestLoginNotRecordedLeavesNoSession: when the caller cannot record the sign-in (the audit
// trail is down), no session is created.
func TestLoginNotRecordedLeavesNoSession(t *testing.T) {
	h := newHarness(t)
	cookies, authURL := h.begin(t)
	code, q := h.op.authorize(authURL)
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "https://ctpdesk.bank.example/auth/callback?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	_, _, err := h.auth.FinishLogin(w, r, func(User) error { return errors.New("audit trail unavailable") })
	h.wantRefused(t, w, err, ReasonNotRecorded, "audit trail unavailable")
}

// TestLoginNestedRoleClaim: providers such as Keycloak put roles in a nested object; a dotted
// CTPDESK_OIDC_ROLE_CLAIM follows it, and an unknown path still denies by default.
func TestLoginNestedRoleClaim(t *testing.T) {
	for _, tc := range []struct {
		claim string
		want  []Role
	}{
		{"realm_access.roles", []Role{RoleFraud}},
		{"realm_access.missing", nil},
		{"groups.roles", nil}, // groups is a list, not an object
	} {
		t.Run(tc.claim, func(t *testing.T) {
			h := newHarness(t)
			h.reconfigure(t, func(cfg *RPConfig) { cfg.RoleClaim = tc.claim })
			h.op.set(func(op *fakeOP) {
				op.mutate = func(c map[string]any) {
					c["groups"] = []string{"marketing"}
					c["realm_access"] = map[string]any{"roles": []string{"fraud-analysts", "offline_access"}}
				}
			})
			w, u, err := h.login(t)
			if tc.want == nil {
				h.wantRefused(t, w, err, ReasonNoRole, "")
				return
			}
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			if !slices.Equal(u.Roles, tc.want) {
				t.Errorf("roles %v, want %v", u.Roles, tc.want)
			}
		})
	}
}

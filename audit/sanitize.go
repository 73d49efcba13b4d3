package audit

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidEvent is returned for an event the trail refuses to store: an unknown action or
// outcome, no actor, or a details key that is not a plain identifier. These are programming
// errors in the caller, not conditions a user can cause.
var ErrInvalidEvent = errors.New("audit: invalid event")

// RedactedValue replaces a details value that looks like personal data.
const RedactedValue = "[redacted]"

// RedactedKeysDetail is the details key under which the trail lists (comma-separated) the keys
// whose values it redacted, so an auditor sees that something was removed and a developer
// sees which caller to fix.
const RedactedKeysDetail = "redacted_keys"

// Field limits. Longer values are cut at a rune boundary; the user agent is cut hardest
// because it is the only free-form field a client fully controls.
const (
	maxIssuer     = 512
	maxSubject    = 255
	maxName       = 200
	maxRole       = 64
	maxRoles      = 16
	maxCustomerID = 128
	maxClientIP   = 64
	maxUserAgent  = 256
	maxRequestID  = 128
	maxDetailKey  = 64
	maxDetailVal  = 512
	maxDetails    = 32
)

var knownActions = map[Action]bool{
	ActionLogin: true, ActionLoginFailed: true, ActionLogout: true, ActionSessionExpired: true, ActionSessionRevoked: true,
	ActionAccessDenied: true, ActionSearch: true, ActionCustomerView: true, ActionComparison: true,
	ActionRefresh: true, ActionReveal: true, ActionAuditRead: true,
	ActionAuditExport: true,
	ActionScanStart:   true, ActionScanCancel: true, ActionScanResume: true, ActionScanFinish: true,
	ActionScansView: true, ActionWorklistView: true, ActionWorklistExport: true,
	ActionWorklistDecision: true,
}

// Actions lists every action in a stable order, for the auditors' filter form.
func Actions() []Action {
	out := make([]Action, 0, len(knownActions))
	for a := range knownActions {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// ValidAction reports whether a is an action the trail records.
func ValidAction(a Action) bool { return knownActions[a] }

// normalize returns the event as it will be stored: strings made valid UTF-8 without control
// characters and cut to their limits, roles sorted, time truncated to UTC milliseconds, and
// details values that look like personal data redacted. It fails for events the trail must
// not store at all, among them a reveal whose reason is not one of the reason codes.
func normalize(e Event, now time.Time) (Event, error) {
	if !knownActions[e.Action] {
		return Event{}, fmt.Errorf("%w: unknown action %q", ErrInvalidEvent, clean(string(e.Action), 40))
	}
	if e.Outcome != Success && e.Outcome != Failure {
		return Event{}, fmt.Errorf("%w: unknown outcome %q", ErrInvalidEvent, clean(string(e.Outcome), 40))
	}
	if e.Action == ActionReveal {
		if err := checkRevealDetails(e); err != nil {
			return Event{}, err
		}
	}
	if err := checkLimits(e); err != nil {
		return Event{}, err
	}
	out := Event{
		Action:     e.Action,
		Outcome:    e.Outcome,
		CustomerID: clean(e.CustomerID, maxCustomerID),
		ClientIP:   clean(e.ClientIP, maxClientIP),
		UserAgent:  clean(e.UserAgent, maxUserAgent),
		RequestID:  clean(e.RequestID, maxRequestID),
		Actor: Actor{
			Issuer:  clean(e.Actor.Issuer, maxIssuer),
			Subject: clean(e.Actor.Subject, maxSubject),
			Name:    clean(e.Actor.Name, maxName),
		},
	}
	// A failed login may have no verified subject yet; every other event has an actor.
	if out.Actor.Subject == "" && e.Action != ActionLoginFailed {
		return Event{}, fmt.Errorf("%w: %s without an actor subject", ErrInvalidEvent, e.Action)
	}
	if len(e.Actor.Roles) > maxRoles {
		return Event{}, fmt.Errorf("%w: %d roles, at most %d", ErrInvalidEvent, len(e.Actor.Roles), maxRoles)
	}
	for _, r := range e.Actor.Roles {
		out.Actor.Roles = append(out.Actor.Roles, clean(r, maxRole))
	}
	sort.Strings(out.Actor.Roles)
	t := e.Time
	if t.IsZero() {
		t = now
	}
	out.Time = time.UnixMilli(t.UnixMilli()).UTC()
	details, err := sanitizeDetails(e.Details)
	if err != nil {
		return Event{}, err
	}
	out.Details = details
	out.Limits = slices.Clone(e.Limits)
	return out, nil
}

// sanitizeDetails enforces "ids and field names only". Keys must be short identifiers, because
// they come from code. Values come from requests and records, so a value that looks like an
// email address, a phone number or a card or account number is replaced by RedactedValue and
// its key listed under RedactedKeysDetail, rather than failing the event: the access itself must
// still be recorded.
func sanitizeDetails(in map[string]string) (map[string]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	if len(in) > maxDetails {
		return nil, fmt.Errorf("%w: %d details, at most %d", ErrInvalidEvent, len(in), maxDetails)
	}
	out := make(map[string]string, len(in)+1)
	var redacted []string
	for k, v := range in {
		if !validKey(k) || k == RedactedKeysDetail {
			return nil, fmt.Errorf("%w: details key %q is not an identifier", ErrInvalidEvent, clean(k, maxDetailKey))
		}
		v = clean(v, maxDetailVal)
		if LooksPersonal(v) {
			v = RedactedValue
			redacted = append(redacted, k)
		}
		out[k] = v
	}
	if len(redacted) > 0 {
		sort.Strings(redacted)
		out[RedactedKeysDetail] = strings.Join(redacted, ",")
	}
	return out, nil
}

func validKey(k string) bool {
	if k == "" || len(k) > maxDetailKey {
		return false
	}
	for _, r := range k {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '_' || r == '.' || r == '-' || r == ':'
		if !ok {
			return false
		}
	}
	return true
}

// LooksPersonal reports whether a details value looks like personal data or a card number:
// anything with an '@' (an email address), a '+' followed by a digit (an international phone
// number), a run of 10 or more digits (a card number, account number or phone number written
// without separators), or a value made only of digits and phone punctuation holding 7 or more
// digits ("06 12 34 56 78", "(555) 010-9999", "4111-1111-1111-1111"). A comma-separated list
// is checked item by item. Identifiers such as customer ids, card ids, UUIDs and field names
// pass.
func LooksPersonal(v string) bool {
	if strings.ContainsRune(v, '@') {
		return true
	}
	for _, item := range strings.Split(v, ",") {
		if looksPersonalItem(strings.TrimSpace(item)) {
			return true
		}
	}
	return false
}

func looksPersonalItem(s string) bool {
	digits, run, longest := 0, 0, 0
	phoneShaped := s != ""
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
			run++
			longest = max(longest, run)
			continue
		case r == '+':
			if i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
				return true
			}
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '/':
		default:
			phoneShaped = false
		}
		run = 0
	}
	return longest >= 10 || (phoneShaped && digits >= 7)
}

// clean makes s valid UTF-8 without control characters (PostgreSQL refuses NUL in text, and
// control characters have no place in an audit record) and cuts it to at most n bytes at a
// rune boundary.
func clean(s string, n int) string {
	ok := len(s) <= n && utf8.ValidString(s)
	if ok {
		for i := 0; i < len(s); i++ {
			if s[i] < 0x20 || s[i] == 0x7f {
				ok = false
				break
			}
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if unicode.IsControl(r) {
			continue
		}
		if b.Len()+utf8.RuneLen(r) > n {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

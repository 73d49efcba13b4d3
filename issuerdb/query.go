package issuerdb

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// Kind is what a search query was understood to be. Its string is shown to the agent
// ("searching by email") and returned in JSON.
type Kind string

// The kinds of query Search detects.
const (
	KindEmail      Kind = "email"
	KindPhone      Kind = "phone"
	KindLast4      Kind = "last4"
	KindLast4Name  Kind = "last4+name"
	KindCustomerID Kind = "customer id"
	KindConsumerID Kind = "consumer id"
	KindName       Kind = "name"
)

// Limits of a query.
const (
	MaxQueryLen  = 200 // characters
	DefaultLimit = 20
	MaxLimit     = 100
	maxTokens    = 8
)

// ErrInvalidQuery is the sentinel every rejected query wraps; handlers map it to 400 and show
// the QueryError's message, which is written for the agent.
var ErrInvalidQuery = errors.New("issuerdb: invalid query")

// QueryError says, in words an agent understands, why a query cannot be run.
type QueryError struct {
	Message string
}

func (e *QueryError) Error() string { return "issuerdb: invalid query: " + e.Message }

// Is makes errors.Is(err, ErrInvalidQuery) true for every QueryError.
func (e *QueryError) Is(target error) bool { return target == ErrInvalidQuery }

func invalid(format string, args ...any) error {
	return &QueryError{Message: fmt.Sprintf(format, args...)}
}

// Query is one search request. After is the opaque cursor of the previous Page's Next.
type Query struct {
	Text  string
	After string
	Limit int
	// Found, when set, is called once the page's rows are found, with the query's kind and
	// the number of rows the page will hold, before Search counts the matches and reads the
	// rows' cards: a caller can start what needs only that number (the dashboard's audit
	// commit) while Search finishes. It is not called when the query is invalid or the rows
	// cannot be read; a later error still fails the Search.
	Found func(kind Kind, rows int)
}

var (
	customerIDPattern = regexp.MustCompile(`^(?i)CU[0-9]{8}$`)
	consumerIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	last4Pattern      = regexp.MustCompile(`^[0-9]{4}$`)
	phoneChars        = regexp.MustCompile(`^\+?[0-9 ()./-]+$`)
)

// plan is a parsed query: its kind and the normalised values the SQL uses.
type plan struct {
	Kind        Kind
	Value       string   // email, E.164 phone, last 4, customer or consumer id
	EmailPrefix bool     // the email has no complete domain: prefix match
	Tokens      []string // folded name tokens (name and last4+name)
	Key         string   // nameKey(Tokens): exact full-name match
}

// parseQuery validates the text and detects its kind. region is the default phone region
// (ISO 3166-1 alpha-2) for numbers typed without a country code.
func parseQuery(text, region string) (plan, error) {
	if !utf8.ValidString(text) {
		return plan{}, invalid("the search text is not valid UTF-8")
	}
	if utf8.RuneCountInString(text) > MaxQueryLen {
		return plan{}, invalid("the search text is longer than %d characters", MaxQueryLen)
	}
	for _, r := range text {
		if unicode.IsControl(r) && r != '\t' {
			return plan{}, invalid("the search text holds control characters")
		}
	}
	q := strings.TrimSpace(strings.ReplaceAll(text, "\t", " "))
	if q == "" {
		return plan{}, invalid("type a name, email, phone number, card last 4, customer id or consumer id")
	}
	switch {
	case strings.Contains(q, "@"):
		return parseEmail(q)
	case customerIDPattern.MatchString(q):
		return plan{Kind: KindCustomerID, Value: strings.ToUpper(q)}, nil
	case last4Pattern.MatchString(q):
		return plan{Kind: KindLast4, Value: q}, nil
	case phoneChars.MatchString(q) && (strings.HasPrefix(q, "+") || countDigits(q) >= 6):
		return parsePhone(q, region)
	case consumerIDPattern.MatchString(q) && strings.ContainsAny(q, "0123456789"):
		return plan{Kind: KindConsumerID, Value: q}, nil
	}
	return parseName(q)
}

func countDigits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}

// parseEmail matches exactly when the domain looks complete ("x@example.com") and by prefix
// otherwise ("john.smith@", "john@exam"), so an agent can type the start of an address.
func parseEmail(q string) (plan, error) {
	q = strings.ToLower(q)
	if strings.ContainsAny(q, " \t") {
		return plan{}, invalid("an email address cannot hold spaces")
	}
	local, domain, _ := strings.Cut(q, "@")
	if local == "" {
		return plan{}, invalid("type the part of the email address before the @")
	}
	if strings.Contains(domain, "@") {
		return plan{}, invalid("an email address holds one @")
	}
	dot := strings.LastIndexByte(domain, '.')
	complete := dot > 0 && len(domain)-dot-1 >= 2
	return plan{Kind: KindEmail, Value: q, EmailPrefix: !complete}, nil
}

func parsePhone(q, region string) (plan, error) {
	num, err := phonenumbers.Parse(q, region)
	if err != nil || !phonenumbers.IsPossibleNumber(num) {
		return plan{}, invalid("%q is not a phone number (numbers without a + are read as %s numbers)", q, region)
	}
	return plan{Kind: KindPhone, Value: phonenumbers.Format(num, phonenumbers.E164)}, nil
}

// parseName reads name tokens, optionally with one card last 4 among them ("4242 smith").
// Every character that is not a letter or digit separates tokens, so FTS and SQL syntax
// ("*", "NEAR", "--", "%") can only ever be searched for as literal name text.
func parseName(q string) (plan, error) {
	tokens := strings.Fields(Fold(q))
	var last4 string
	names := tokens[:0:0]
	for _, t := range tokens {
		switch {
		case last4Pattern.MatchString(t) && last4 == "":
			last4 = t
		case strings.ContainsAny(t, "0123456789"):
			return plan{}, invalid("a name search may hold one card last 4 and names, not %q", t)
		default:
			names = append(names, t)
		}
	}
	if len(names) == 0 {
		return plan{}, invalid("nothing to search for: type letters of a name, or an email, phone number or id")
	}
	if len(names) > maxTokens {
		return plan{}, invalid("a name search takes at most %d words", maxTokens)
	}
	p := plan{Kind: KindName, Tokens: names, Key: nameKey(names)}
	if last4 != "" {
		p.Kind, p.Value = KindLast4Name, last4
	}
	return p, nil
}

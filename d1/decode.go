package d1

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// DecodeProfiles decodes a get-profiles 200 body. It tolerates unknown fields and enum values,
// scalars sent as numbers, one email or phone where an array is expected (and the reverse),
// and a bare top-level array. Card numbers longer than four digits are cut to their last four
// before they leave this function, and no error it returns quotes the body.
func DecodeProfiles(body []byte) ([]Profile, error) {
	body = bytes.TrimSpace(body)
	var wire wireProfiles
	switch {
	case len(body) == 0:
		return nil, errors.New("d1: decode profiles: empty body")
	case body[0] == '[':
		if err := json.Unmarshal(body, &wire.Profiles); err != nil {
			return nil, fmt.Errorf("d1: decode profiles: %w", safeJSONError(err))
		}
	case body[0] == '{':
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(body, &probe); err != nil {
			return nil, fmt.Errorf("d1: decode profiles: %w", safeJSONError(err))
		}
		if _, ok := probe["clickToPayProfiles"]; !ok {
			return nil, errors.New("d1: decode profiles: no clickToPayProfiles field")
		}
		if err := json.Unmarshal(body, &wire); err != nil {
			return nil, fmt.Errorf("d1: decode profiles: %w", safeJSONError(err))
		}
	default:
		return nil, errors.New("d1: decode profiles: body is not a JSON object or array")
	}
	profiles := make([]Profile, 0, len(wire.Profiles))
	for _, w := range wire.Profiles {
		profiles = append(profiles, w.toProfile())
	}
	return profiles, nil
}

// EncodeProfiles encodes profiles exactly as DecodeProfiles expects them. The sandbox uses it
// so that the wire format has a single definition; it writes Last4 as given, which lets the
// sandbox send a full card number on purpose.
func EncodeProfiles(profiles []Profile) ([]byte, error) {
	wire := wireProfiles{Profiles: make([]wireProfile, 0, len(profiles))}
	for _, p := range profiles {
		wire.Profiles = append(wire.Profiles, fromProfile(p))
	}
	b, err := json.Marshal(wire)
	if err != nil {
		return nil, fmt.Errorf("d1: encode profiles: %w", err)
	}
	return b, nil
}

// safeJSONError turns an encoding/json error into one that never quotes input: an
// UnmarshalTypeError's Value may hold a number from the body (a PAN sent as a number).
func safeJSONError(err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("malformed JSON at byte %d", syn.Offset)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Errorf("unexpected JSON type at %q", typ.Field)
	}
	var field *fieldError
	if errors.As(err, &field) {
		return field
	}
	if errors.Is(err, errUnexpectedEOF) || strings.Contains(err.Error(), "unexpected end of JSON input") {
		return errUnexpectedEOF
	}
	return errors.New("malformed JSON")
}

var errUnexpectedEOF = errors.New("truncated JSON")

// fieldError is returned by the tolerant scalar types; it names the JSON kind, never the value.
type fieldError struct{ kind string }

func (e *fieldError) Error() string { return "a scalar field holds a JSON " + e.kind }

// wireString accepts a JSON string, number, boolean or null, keeping numbers' text as sent.
type wireString string

// UnmarshalJSON implements json.Unmarshaler.
func (s *wireString) UnmarshalJSON(b []byte) error {
	v, err := scalarText(b)
	if err != nil {
		return err
	}
	*s = wireString(v)
	return nil
}

// scalarText returns the text of a JSON scalar; null is "".
func scalarText(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return "", &fieldError{kind: "nothing"}
	}
	switch b[0] {
	case '"':
		// Fast path for the common case: no escapes and valid UTF-8 need no decoding. The
		// outer decoder has already checked the value is a well-formed JSON string.
		if len(b) >= 2 && b[len(b)-1] == '"' {
			if inner := b[1 : len(b)-1]; bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
				return string(inner), nil
			}
		}
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return "", &fieldError{kind: "broken string"}
		}
		return v, nil
	case 'n':
		return "", nil
	case 't', 'f':
		return string(b), nil
	case '{':
		return "", &fieldError{kind: "object"}
	case '[':
		return "", &fieldError{kind: "array"}
	default:
		return string(b), nil
	}
}

// wireStrings accepts one string or an array of strings; empty values are dropped.
type wireStrings []string

// UnmarshalJSON implements json.Unmarshaler.
func (s *wireStrings) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		var items []wireString
		if err := json.Unmarshal(b, &items); err != nil {
			return err
		}
		out := make([]string, 0, len(items))
		for _, it := range items {
			if it != "" {
				out = append(out, string(it))
			}
		}
		*s = out
		return nil
	}
	v, err := scalarText(b)
	if err != nil {
		return err
	}
	*s = nil
	if v != "" {
		*s = []string{v}
	}
	return nil
}

// MarshalJSON writes one value as a string and several as an array.
func (s wireStrings) MarshalJSON() ([]byte, error) {
	if len(s) == 1 {
		return json.Marshal(s[0])
	}
	return json.Marshal([]string(s))
}

// wirePhones accepts one phone object, an array of them, or a bare string (the whole number).
type wirePhones []wirePhone

// UnmarshalJSON implements json.Unmarshaler.
func (p *wirePhones) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*p = nil
	if len(b) == 0 {
		return &fieldError{kind: "nothing"}
	}
	switch b[0] {
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(b, &items); err != nil {
			return err
		}
		for _, it := range items {
			// One level only: a nested array is not a phone, and recursing into it would let a
			// hostile body cost time quadratic in its nesting depth.
			if it = bytes.TrimSpace(it); len(it) > 0 && it[0] == '[' {
				return &fieldError{kind: "nested array"}
			}
			var one wirePhones
			if err := one.UnmarshalJSON(it); err != nil {
				return err
			}
			*p = append(*p, one...)
		}
	case '{':
		var one wirePhone
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		if one.PhoneNumber != "" || one.CountryCode != "" {
			*p = append(*p, one)
		}
	default:
		v, err := scalarText(b)
		if err != nil {
			return err
		}
		if v != "" {
			*p = append(*p, wirePhone{PhoneNumber: wireString(v)})
		}
	}
	return nil
}

// MarshalJSON writes one phone as an object and several as an array.
func (p wirePhones) MarshalJSON() ([]byte, error) {
	if len(p) == 1 {
		return json.Marshal(p[0])
	}
	return json.Marshal([]wirePhone(p))
}

// wirePAN is a card-number field. Decoding keeps only the last four digits of whatever digits
// it holds, so a full PAN sent by mistake never reaches memory beyond this point.
type wirePAN string

// UnmarshalJSON implements json.Unmarshaler.
func (p *wirePAN) UnmarshalJSON(b []byte) error {
	v, err := scalarText(b)
	if err != nil {
		return err
	}
	*p = wirePAN(lastDigits(v, 4))
	return nil
}

// lastDigits returns the last n digits of s, ignoring every other character.
func lastDigits(s string, n int) string {
	out := make([]byte, 0, n)
	for i := len(s) - 1; i >= 0 && len(out) < n; i-- {
		if s[i] >= '0' && s[i] <= '9' {
			out = append(out, s[i])
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

// redactPANs masks any run of 12 or more digits (spaces and dashes between them allowed) in a
// free-text field, keeping the last four: defence in depth for a card number in a wrong field.
func redactPANs(s string) string {
	if !strings.ContainsAny(s, "0123456789") {
		return s
	}
	var out strings.Builder
	i := 0
	for i < len(s) {
		if s[i] < '0' || s[i] > '9' {
			out.WriteByte(s[i])
			i++
			continue
		}
		j, digits := i, 0
		end := i
		for j < len(s) {
			c := s[j]
			if c >= '0' && c <= '9' {
				digits++
				j++
				end = j
				continue
			}
			if (c == ' ' || c == '-') && j+1 < len(s) && s[j+1] >= '0' && s[j+1] <= '9' {
				j++
				continue
			}
			break
		}
		if digits >= 12 {
			out.WriteString("****")
			out.WriteString(lastDigits(s[i:end], 4))
		} else {
			out.WriteString(s[i:end])
		}
		i = end
	}
	return out.String()
}

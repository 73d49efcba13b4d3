package d1

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error GetProfiles returns is an *Error whose Is matches exactly one of
// these, so callers (the HTTP error table, the comparison page) can switch on them with
// errors.Is and still read the class, status and correlation id from the *Error.
var (
	// ErrNotFound means D1 does not know the consumer (HTTP 404).
	ErrNotFound = errors.New("d1: consumer not found")
	// ErrUnauthorized means D1 refused our credentials: token request rejected, or 401/403
	// after one refresh.
	ErrUnauthorized = errors.New("d1: unauthorized")
	// ErrUnavailable means D1 could not be reached or answered in time: network errors,
	// timeouts, 5xx, 429 and an open circuit breaker.
	ErrUnavailable = errors.New("d1: unavailable")
	// ErrBadResponse means D1 answered something we cannot use: malformed or oversized body,
	// unexpected status, or a 400 rejecting our request.
	ErrBadResponse = errors.New("d1: bad response")
	// ErrInvalidConsumerID means the consumer id was refused before any call was made.
	ErrInvalidConsumerID = errors.New("d1: invalid consumer id")
)

// Error classes: a short, stable label for metrics, logs and the UI.
const (
	ClassTimeout        = "timeout"
	ClassCanceled       = "canceled"
	ClassUnavailable    = "unavailable"
	ClassRateLimited    = "rate-limited"
	ClassCircuitOpen    = "circuit-open"
	ClassBadResponse    = "bad-response"
	ClassBadRequest     = "bad-request"
	ClassUnauthorized   = "unauthorized"
	ClassForbidden      = "forbidden"
	ClassNotFound       = "not-found"
	ClassInvalidRequest = "invalid-request"
	// ClassOK labels a successful call in metrics.
	ClassOK = "ok"
)

// Error is the error type of the d1 package. It never carries response bodies, tokens or card
// numbers: only the operation, the class, the HTTP status, D1's errorCode and the correlation
// id that lets D1 support find the call.
type Error struct {
	// Kind is one of the sentinel errors above.
	Kind error
	// Op is "token" or "profiles".
	Op string
	// Status is the last HTTP status seen, 0 when no response arrived.
	Status int
	// Code is D1's errorCode when the error body carried a well-formed one.
	Code string
	// CorrelationID is the x-correlation-id sent with the call.
	CorrelationID string
	// Attempts is how many HTTP requests were made for this call.
	Attempts int
	// Err is the underlying cause, if any (a network error, a decode problem).
	Err error

	class string
}

// Class returns the error's class, e.g. "timeout" or "circuit-open".
func (e *Error) Class() string { return e.class }

// Error describes the failure without any response content.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "d1: %s: %s", e.Op, e.class)
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d", e.Status)
		if e.Code != "" {
			fmt.Fprintf(&b, " %s", e.Code)
		}
		b.WriteString(")")
	}
	if e.CorrelationID != "" {
		fmt.Fprintf(&b, " correlation-id=%s", e.CorrelationID)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

// Is reports whether target is the error's kind.
func (e *Error) Is(target error) bool { return target == e.Kind }

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// newError builds an *Error; the kind follows from the class.
func newError(op, class string, status int, correlationID string, cause error) *Error {
	return &Error{Kind: kindOf(class), Op: op, Status: status, CorrelationID: correlationID, Err: cause, class: class}
}

// NewError builds the error GetProfiles returns for a failure of the given class (one of the
// Class constants), for fakes of the client in other packages' tests: they can then fail
// exactly as the client does, class and correlation id included.
func NewError(class string, status int, correlationID string) *Error {
	return newError("profiles", class, status, correlationID, nil)
}

// kindOf maps a class onto its sentinel.
func kindOf(class string) error {
	switch class {
	case ClassNotFound:
		return ErrNotFound
	case ClassUnauthorized, ClassForbidden:
		return ErrUnauthorized
	case ClassBadResponse, ClassBadRequest:
		return ErrBadResponse
	case ClassInvalidRequest:
		return ErrInvalidConsumerID
	default:
		return ErrUnavailable
	}
}

// ClassOf returns the class of any error from this package, "ok" for nil and "unavailable"
// for foreign errors.
func ClassOf(err error) string {
	if err == nil {
		return ClassOK
	}
	var e *Error
	if errors.As(err, &e) {
		return e.class
	}
	return ClassUnavailable
}

// staleAllowed reports whether a cached result may stand in for this failure: only when D1
// was unreachable or answered garbage, never when it said the consumer is unknown or refused us.
func staleAllowed(err error) bool {
	switch ClassOf(err) {
	case ClassTimeout, ClassUnavailable, ClassRateLimited, ClassCircuitOpen, ClassBadResponse:
		return true
	}
	return false
}

package d1

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"time"
)

// response is what one HTTP request to D1 produced: the status, the headers and a capped body.
type response struct {
	status int
	header http.Header
	body   []byte
}

// errBodyTooLarge is returned when a body exceeds MaxBodyBytes.
var errBodyTooLarge = errors.New("response body exceeds the size limit")

// roundTrip sends req (one attempt; the breaker judges whole calls, see breaker.go) and reads
// at most maxBody bytes of the answer. The error is non-nil for transport failures, oversized
// bodies, 5xx and 429 (the last two with the response filled in).
func (c *Client) roundTrip(ctx context.Context, op string, req *http.Request) (response, error) {
	start := time.Now()
	resp, err := func() (response, error) {
		hr, err := c.http.Do(req.WithContext(ctx))
		if err != nil {
			return response{}, err
		}
		defer hr.Body.Close()
		body, err := io.ReadAll(io.LimitReader(hr.Body, c.cfg.MaxBodyBytes+1))
		out := response{status: hr.StatusCode, header: hr.Header}
		if err != nil {
			return out, fmt.Errorf("read body: %w", err)
		}
		if int64(len(body)) > c.cfg.MaxBodyBytes {
			// Drain a little more so the connection can be reused when the excess is small.
			_, _ = io.Copy(io.Discard, io.LimitReader(hr.Body, 64<<10))
			return out, errBodyTooLarge
		}
		out.body = body
		if hr.StatusCode >= 500 || hr.StatusCode == http.StatusTooManyRequests {
			return out, errServerStatus{status: hr.StatusCode}
		}
		return out, nil
	}()
	c.metrics.ObserveAttempt(op, resp.status, time.Since(start))
	return resp, err
}

// classifyTransport maps a failed roundTrip onto a class. ctx is the call's context.
func classifyTransport(ctx context.Context, err error) string {
	var st errServerStatus
	switch {
	case isBreakerRejection(err):
		return ClassCircuitOpen
	case errors.As(err, &st) && st.status == http.StatusTooManyRequests:
		return ClassRateLimited
	case errors.As(err, &st):
		return ClassUnavailable
	case errors.Is(err, errBodyTooLarge):
		return ClassBadResponse
	case errors.Is(ctx.Err(), context.Canceled):
		return ClassCanceled
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return ClassTimeout
	default:
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			return ClassTimeout
		}
		return ClassUnavailable
	}
}

// transportCause is the cause kept in an *Error for a transport failure. A server status is
// already in Error.Status, so it is not repeated.
func transportCause(err error) error {
	var st errServerStatus
	if errors.As(err, &st) || isBreakerRejection(err) {
		return nil
	}
	return err
}

// errorCodePattern accepts D1 errorCode values worth keeping (upper-case identifiers).
var errorCodePattern = regexp.MustCompile(`^[A-Z0-9_]{1,64}$`)

// errorCode extracts D1's errorCode from an error body, if the body has a well-formed one.
func errorCode(body []byte) string {
	var w wireError
	if json.Unmarshal(body, &w) != nil || !errorCodePattern.MatchString(w.ErrorCode) {
		return ""
	}
	return w.ErrorCode
}

// retryAfter parses a Retry-After header (delta seconds or an HTTP date). ok is false when the
// header is absent or unreadable.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0, false
		}
		// Anything beyond a day is as good as "not now"; capping avoids Duration overflow.
		secs = min(secs, 86400)
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}

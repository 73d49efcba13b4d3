package handlers

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	loggerKey
)

// requestIDEncoding makes ids that are valid D1 correlation ids (^[A-Za-z0-9_-]{1,64}$).
var requestIDEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newRequestID returns 26 random characters. Ids sent by clients are never trusted: they would
// let a caller write what it likes into our logs and audit trail.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return strings.ToLower(requestIDEncoding.EncodeToString(b[:]))
}

// RequestID returns the request id stored in ctx, "" outside a request.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// Logger returns the request's logger (it carries the request id), or fallback outside a request.
func Logger(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return fallback
}

func requestID(c echo.Context) string { return RequestID(c.Request().Context()) }

// withRequestID gives every request an id, echoes it in X-Request-Id and puts it, with a logger
// that carries it, in the request context.
func (h *Handler) withRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := newRequestID()
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		ctx := context.WithValue(c.Request().Context(), requestIDKey, id)
		ctx = context.WithValue(ctx, loggerKey, h.log.With(slog.String("request_id", id)))
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

// accessLog writes one structured line per request. It logs the route pattern, never the raw
// path or query string: searches and customer ids in URLs are personal data.
func (h *Handler) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			// Let the error handler write the response now so the logged status is the real one.
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "(no route)"
		}
		attrs := []slog.Attr{
			slog.String("method", c.Request().Method),
			slog.String("route", route),
			slog.Int("status", c.Response().Status),
			slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
			slog.Int64("bytes", c.Response().Size),
		}
		if sub := h.subject(c); sub != "" {
			attrs = append(attrs, slog.String("subject", sub))
		}
		h.observe(c.Request().Method, route, c.Response().Status, time.Since(start))
		Logger(c.Request().Context(), h.log).LogAttrs(c.Request().Context(), slog.LevelInfo, "http request", attrs...)
		return nil
	}
}

// recoverPanic turns a panic into a 500 page and a log line with the stack, and keeps the
// server running.
func (h *Handler) recoverPanic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				Logger(c.Request().Context(), h.log).Error("panic in handler",
					slog.String("route", c.Path()), slog.String("panic", fmt.Sprint(r)), slog.String("stack", string(debug.Stack())))
				err = fmt.Errorf("handlers: panic: %v", r)
			}
		}()
		return next(c)
	}
}

// contentSecurityPolicy is strict: our own scripts and styles only, nothing inline, no eval,
// no framing, no plugins, forms post only to us.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"

// securityHeaders sets the headers every response carries, static files and errors included.
// Dynamic responses default to no-store because most of them show customer data; the static
// file server sets its own long-lived caching.
func (h *Handler) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		hd := c.Response().Header()
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cross-Origin-Resource-Policy", "same-origin")
		if h.secure || c.IsTLS() {
			hd.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		if !strings.HasPrefix(c.Request().URL.Path, "/static/") {
			hd.Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}

// limitBody refuses request bodies over max bytes: a declared length over it gets 413 at once,
// and a body that turns out longer fails when read.
func (h *Handler) limitBody(max int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.ContentLength > max {
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge)
			}
			if r.Body != nil {
				r.Body = http.MaxBytesReader(c.Response(), r.Body, max)
			}
			return next(c)
		}
	}
}

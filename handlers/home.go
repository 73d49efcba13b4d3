package handlers

import (
	"net/http"

	"ctpdesk/views"

	"github.com/labstack/echo/v4"
)

// Home is the landing page.
func (h *Handler) Home(c echo.Context) error {
	b := h.base(c, "Home")
	return render(c, http.StatusOK, views.Home(b, views.HomePage{SignedIn: b.User != nil}))
}

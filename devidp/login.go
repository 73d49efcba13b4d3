package devidp

import (
	"context"
	"html/template"
	"net/http"
)

const (
	loginPath     = "/login"
	loggedOutPath = "/logged-out"
)

// loginPage asks for a username and password and completes the authorization request.
type loginPage struct {
	storage  *storage
	users    *directory
	callback func(context.Context, string) string
}

// loginTemplate has no script and no inline style, so it runs under any CSP.
var loginTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Development sign-in</title></head>
<body>
<main>
<h1>Development identity provider</h1>
<p>This provider exists only in <code>ctpdesk dev</code>. Demo users: {{range $i, $u := .Users}}{{if $i}}, {{end}}<code>{{$u.Username}}</code>{{end}} (password <code>demo</code>).</p>
{{if .Error}}<p role="alert" data-testid="login-error">{{.Error}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="authRequestID" value="{{.ID}}">
<p><label for="username">Username</label> <input id="username" name="username" autocomplete="username" required autofocus value="{{.Username}}"></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit" id="sign-in">Sign in</button></p>
</form>
</main>
</body></html>`))

type loginView struct {
	ID       string
	Username string
	Error    string
	Users    []User
}

func (p *loginPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	// No form-action: browsers apply it to the redirects after the POST too, and those end at
	// the relying party's callback on another origin.
	w.Header().Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	switch r.Method {
	case http.MethodGet:
		id := r.URL.Query().Get("authRequestID")
		if _, err := p.storage.AuthRequestByID(r.Context(), id); err != nil {
			http.Error(w, "unknown or expired sign-in request", http.StatusBadRequest)
			return
		}
		p.render(w, http.StatusOK, loginView{ID: id, Users: p.users.list()})
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		id := r.PostForm.Get("authRequestID")
		if _, err := p.storage.AuthRequestByID(r.Context(), id); err != nil {
			http.Error(w, "unknown or expired sign-in request", http.StatusBadRequest)
			return
		}
		u, ok := p.users.checkPassword(r.PostForm.Get("username"), r.PostForm.Get("password"))
		if !ok {
			p.render(w, http.StatusUnauthorized, loginView{ID: id, Username: r.PostForm.Get("username"),
				Error: "Wrong username or password.", Users: p.users.list()})
			return
		}
		if err := p.storage.completeLogin(id, u); err != nil {
			http.Error(w, "unknown or expired sign-in request", http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, p.callback(r.Context(), id), http.StatusFound)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (p *loginPage) render(w http.ResponseWriter, status int, v loginView) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = loginTemplate.Execute(w, v)
}

func loggedOut(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("Signed out of the development identity provider.\n"))
}

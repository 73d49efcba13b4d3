// Package devidp is a development OpenID Provider built on zitadel/oidc's op package, with an
// in-memory storage and users from a file. `ctpdesk dev` and the tests start it so a complete
// sign-in works with no set-up; `ctpdesk serve` never does.
package devidp

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sync"
)

// DefaultPassword is every default user's password. It is printed by `ctpdesk dev`.
const DefaultPassword = "demo"

// User is one person who can sign in at the development provider.
type User struct {
	Username string   `json:"username"`
	Password string   `json:"password"`
	Name     string   `json:"name"`
	Email    string   `json:"email"`
	Groups   []string `json:"groups"`
}

// Subject is the user's stable identifier at this provider.
func (u User) Subject() string { return "devidp-" + u.Username }

// DefaultUsers returns the demo users: one per role, and one with no group at all to show the
// no-access page.
func DefaultUsers() []User {
	return []User{
		{Username: "agent", Password: DefaultPassword, Name: "Alex Agent", Email: "agent@devidp.invalid", Groups: []string{"cs-agents"}},
		{Username: "fraud", Password: DefaultPassword, Name: "Farah Fraud", Email: "fraud@devidp.invalid", Groups: []string{"fraud-analysts"}},
		{Username: "auditor", Password: DefaultPassword, Name: "Aude Auditor", Email: "auditor@devidp.invalid", Groups: []string{"it-audit"}},
		{Username: "nobody", Password: DefaultPassword, Name: "Noah Nobody", Email: "nobody@devidp.invalid", Groups: nil},
	}
}

var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// LoadUsers reads users from a JSON file holding a list of users. Every user needs a valid
// unique username and a password; groups may be empty.
func LoadUsers(path string) ([]User, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("devidp: users file: %w", err)
	}
	var users []User
	if err := json.Unmarshal(raw, &users); err != nil {
		return nil, fmt.Errorf("devidp: users file %s: %w", path, err)
	}
	if err := validateUsers(users); err != nil {
		return nil, fmt.Errorf("devidp: users file %s: %w", path, err)
	}
	return users, nil
}

func validateUsers(users []User) error {
	if len(users) == 0 {
		return errors.New("no users")
	}
	seen := map[string]bool{}
	for i, u := range users {
		if !usernamePattern.MatchString(u.Username) {
			return fmt.Errorf("user %d: username %q must be 1-64 lowercase letters, digits, '.', '_' or '-'", i+1, u.Username)
		}
		if seen[u.Username] {
			return fmt.Errorf("user %d: username %q appears twice", i+1, u.Username)
		}
		seen[u.Username] = true
		if u.Password == "" {
			return fmt.Errorf("user %q: empty password", u.Username)
		}
	}
	return nil
}

// directory holds the provider's users. Tests change it at run time (SetGroups, RemoveUser)
// the way an administrator changes a real provider, so it is guarded by a mutex.
type directory struct {
	mu    sync.Mutex
	users []User
}

func newDirectory(users []User) *directory {
	return &directory{users: slices.Clone(users)}
}

// list returns a copy of the users.
func (d *directory) list() []User {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.users)
}

// bySubject finds a user by subject.
func (d *directory) bySubject(subject string) (User, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, u := range d.users {
		if u.Subject() == subject {
			return u, true
		}
	}
	return User{}, false
}

// checkPassword finds the user with this username and password, comparing in constant time.
func (d *directory) checkPassword(username, password string) (User, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, u := range d.users {
		if u.Username == username && subtle.ConstantTimeCompare([]byte(u.Password), []byte(password)) == 1 {
			return u, true
		}
	}
	return User{}, false
}

// update applies f to the user with this username.
func (d *directory) update(username string, f func(i int)) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, u := range d.users {
		if u.Username == username {
			f(i)
			return nil
		}
	}
	return fmt.Errorf("devidp: no user %q", username)
}

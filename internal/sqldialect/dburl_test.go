package sqldialect

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

func TestParseURLRefusesWhatIsNotADatabaseURL(t *testing.T) {
	for _, raw := range []string{"", "sqlite:", "sqlite://", "sqlite:/tmp/x.db?mode=rwc", "sqlite:a#b",
		"mysql://x", "postgres://%zz", "postgres://u@h:notaport/db", "/tmp/file.db", "SQLITE:/x"} {
		if _, err := ParseURL(raw); !errors.Is(err, ErrBadURL) {
			t.Errorf("ParseURL(%q) = %v, want ErrBadURL", raw, err)
		}
	}
	for raw, want := range map[string]Target{
		"sqlite:/data/x.db":                      {Engine: SQLite, Path: "/data/x.db"},
		"sqlite://rel/x.db":                      {Engine: SQLite, Path: "rel/x.db"},
		"postgres://u@127.0.0.1:5432/d":          {Engine: Postgres, URL: "postgres://u@127.0.0.1:5432/d"},
		"postgresql://u@h/d?sslmode=verify-full": {Engine: Postgres, URL: "postgresql://u@h/d?sslmode=verify-full"},
	} {
		got, err := ParseURL(raw)
		if err != nil || got != want {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v", raw, got, err, want)
		}
	}
}

func TestOpenSQLiteAppliesItsParameters(t *testing.T) {
	tg := Target{Engine: SQLite, Path: filepath.Join(t.TempDir(), "x.db")}
	db, err := Open(tg, OpenOptions{SQLiteParams: "_pragma=busy_timeout(1234)", MaxConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var timeout int
	if err := db.QueryRowContext(context.Background(), "PRAGMA busy_timeout").Scan(&timeout); err != nil || timeout != 1234 {
		t.Errorf("busy_timeout = %d, %v; want 1234", timeout, err)
	}
	if got := db.Stats().MaxOpenConnections; got != 2 {
		t.Errorf("max open connections %d, want 2", got)
	}
}

package deploycheck

import (
	"os"
	"strings"
	"testing"
)

func mustReadDockerfile(tb testing.TB) string {
	tb.Helper()
	b, err := os.ReadFile("../../deploy/Dockerfile")
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

func TestRepositoryDockerfilePasses(t *testing.T) {
	if err := CheckDockerfile(mustReadDockerfile(t)); err != nil {
		t.Fatalf("deploy/Dockerfile fails its own check:\n%v", err)
	}
}

func TestCheckDockerfileRejects(t *testing.T) {
	tests := []struct {
		name, old, new string
		all            bool
		want           string
	}{
		{name: "no USER", old: "USER 65532:65532\n", new: "", want: "sets no USER"},
		{name: "root USER", old: "USER 65532:65532", new: "USER 0:0", want: `runs as "0:0"`},
		{name: "root by name", old: "USER 65532:65532", new: "USER root", want: `runs as "root"`},
		{name: "unpinned build image", old: "FROM golang:1.26.10-bookworm AS build", new: "FROM golang AS build", want: `base image "golang" is not pinned`},
		{name: "latest runtime image", old: "gcr.io/distroless/static-debian12:nonroot", new: "gcr.io/distroless/static-debian12:latest", want: "is not pinned"},
		{name: "runtime with a shell", old: "FROM gcr.io/distroless/static-debian12:nonroot", new: "FROM debian:bookworm-slim", want: "neither scratch nor distroless"},
		{name: "shell-form entrypoint", old: `ENTRYPOINT ["/usr/local/bin/ctpdesk"]`, new: "ENTRYPOINT /usr/local/bin/ctpdesk", want: "exec form"},
		{name: "cgo left on", old: "CGO_ENABLED=0", new: "CGO_ENABLED=1", all: true, want: "CGO_ENABLED=0"},
		{name: "single stage", old: "FROM gcr.io/distroless/static-debian12:nonroot\nCOPY --from=build /out/ctpdesk /usr/local/bin/ctpdesk\n", new: "", want: "multi-stage"},
		{name: "remote ADD", old: "COPY . .", new: "ADD https://example.com/src.tgz .", want: "ADD of a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text := mustReadDockerfile(t)
			if n := strings.Count(text, tt.old); n == 0 || (n > 1 && !tt.all) {
				t.Fatalf("%q occurs %d times in deploy/Dockerfile", tt.old, n)
			}
			err := CheckDockerfile(strings.ReplaceAll(text, tt.old, tt.new))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseDockerfileJoinsContinuations(t *testing.T) {
	got := parseDockerfile("# c\nFROM a:1 AS b\n\nRUN x \\\n  # inner comment\n  && y\nUSER 1\n")
	want := []instruction{{2, "FROM", "a:1 AS b"}, {4, "RUN", "x  && y"}, {7, "USER", "1"}}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("instruction %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

package deploycheck

import (
	"errors"
	"fmt"
	"strings"
)

// instruction is one Dockerfile instruction with its continuation lines joined.
type instruction struct {
	line int
	cmd  string // upper case: FROM, RUN, USER, …
	args string
}

// parseDockerfile splits a Dockerfile into instructions. It understands comments, blank
// lines and backslash continuations, which is all deploy/Dockerfile uses; it is not a full
// BuildKit parser (no heredocs or escape directive).
func parseDockerfile(text string) []instruction {
	var out []instruction
	var cur strings.Builder
	start := 0
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if cur.Len() == 0 && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if cur.Len() > 0 && strings.HasPrefix(line, "#") {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\"))
			cur.WriteString(" ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{line: start, cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

// CheckDockerfile applies the image rules: a multi-stage build of a static binary
// (CGO_ENABLED=0), pinned base images, a distroless or scratch runtime stage running as a
// non-root user, and an exec-form ENTRYPOINT so SIGTERM reaches ctpdesk itself and its
// graceful shutdown runs.
func CheckDockerfile(text string) error {
	var errs []error
	fail := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("deploycheck: Dockerfile line %d: %s", line, fmt.Sprintf(format, args...)))
	}
	ins := parseDockerfile(text)
	stages := map[string]bool{}
	var froms []instruction
	lastStage := -1
	for i, in := range ins {
		if in.cmd == "FROM" {
			froms = append(froms, in)
			lastStage = i
			fields := strings.Fields(in.args)
			image := ""
			for _, f := range fields {
				if !strings.HasPrefix(f, "--") {
					image = f
					break
				}
			}
			checkBaseImage(fail, in.line, image, stages)
			// A later FROM may build on this stage by name.
			if len(fields) >= 3 && strings.EqualFold(fields[len(fields)-2], "AS") {
				stages[strings.ToLower(fields[len(fields)-1])] = true
			}
		}
		if in.cmd == "ADD" && (strings.Contains(in.args, "http://") || strings.Contains(in.args, "https://")) {
			fail(in.line, "ADD of a URL fetches unpinned content at build time; vendor it or verify a checksum")
		}
	}
	if len(froms) < 2 {
		errs = append(errs, errors.New("deploycheck: Dockerfile: want a multi-stage build (a build stage and a minimal runtime stage)"))
	}
	if !strings.Contains(text, "CGO_ENABLED=0") {
		errs = append(errs, errors.New("deploycheck: Dockerfile: the build must set CGO_ENABLED=0 for a static binary"))
	}
	if lastStage < 0 {
		return errors.Join(errs...)
	}
	final := ins[lastStage:]
	if base := strings.Fields(final[0].args); len(base) > 0 {
		image := base[len(base)-1]
		if len(base) >= 3 && strings.EqualFold(base[len(base)-2], "AS") {
			image = base[len(base)-3]
		}
		if image != "scratch" && !strings.Contains(image, "distroless") {
			fail(final[0].line, "the runtime stage %q is neither scratch nor distroless", image)
		}
	}
	user, entry := "", ""
	for _, in := range final {
		switch in.cmd {
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entry = in.args
		}
	}
	uid, _, _ := strings.Cut(user, ":")
	switch {
	case user == "":
		errs = append(errs, errors.New("deploycheck: Dockerfile: the runtime stage sets no USER, so it runs as root"))
	case uid == "0" || strings.EqualFold(uid, "root"):
		errs = append(errs, fmt.Errorf("deploycheck: Dockerfile: the runtime stage runs as %q", user))
	}
	if !strings.HasPrefix(entry, "[") {
		errs = append(errs, errors.New("deploycheck: Dockerfile: ENTRYPOINT must be in exec form ([\"/path\", …]) so SIGTERM reaches ctpdesk"))
	}
	return errors.Join(errs...)
}

// checkBaseImage wants every base image pinned by tag or digest, never latest. Earlier
// stages referenced by name and scratch need no tag.
func checkBaseImage(fail func(int, string, ...any), line int, image string, stages map[string]bool) {
	if image == "" {
		fail(line, "FROM names no image")
		return
	}
	if image == "scratch" || stages[strings.ToLower(image)] || strings.Contains(image, "@sha256:") {
		return
	}
	name := image[strings.LastIndex(image, "/")+1:]
	_, tag, ok := strings.Cut(name, ":")
	if !ok || tag == "" || tag == "latest" || strings.Contains(tag, "$") {
		fail(line, "base image %q is not pinned to a release tag or digest", image)
	}
}

# `make help`: lists every target documented with "target: prerequisites ## description", in
# the Makefile's order, the names padded to the longest one. A description that ends in ":"
# is followed by the target's prerequisites, so `lint` names exactly the steps it runs.
# A target without "##" is not listed.

/^[A-Za-z0-9_.-]+:.*## / {
	name = $0
	sub(/:.*/, "", name)
	desc = $0
	sub(/^[^#]*## /, "", desc)
	deps = $0
	sub(/^[^:]*:/, "", deps)
	sub(/##.*/, "", deps)
	gsub(/[ \t]+/, " ", deps)
	sub(/^ /, "", deps)
	sub(/ $/, "", deps)
	if (desc ~ /:$/ && deps != "")
		desc = desc " " deps
	n++
	names[n] = name
	descs[n] = desc
	if (length(name) > width)
		width = length(name)
}

END {
	format = "  \033[1m%-" width "s\033[0m  %s\n"
	for (i = 1; i <= n; i++)
		printf format, names[i], descs[i]
}

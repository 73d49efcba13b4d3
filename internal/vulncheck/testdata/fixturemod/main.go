// Command fixturemod calls the functions the synthetic advisories in ../osv name, so a real
// govulncheck run over it reports them at symbol level.
package main

import (
	"fmt"
	"strings"
)

func main() {
	fmt.Println(strings.ToUpper("a"), strings.Repeat("b", 2))
}

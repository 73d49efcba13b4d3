// Command tidymod is the smallest module with one requirement: tidy as committed, and made
// untidy by the tests of tidy-check.
package main

import (
	"fmt"

	"github.com/google/go-cmp/cmp"
)

func main() {
	fmt.Println(cmp.Equal(1, 1))
}

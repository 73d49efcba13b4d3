package issuerdb

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Segment is a piece of displayed text; Match marks the part a search matched.
type Segment struct {
	Text  string
	Match bool
}

// Highlight splits text (a name as the issuer holds it) into segments, marking in each word
// the start that a query token matched: the longest token the folded word starts with.
// Words and their folded form come from Fold, one character at a time, so "Zoë" is marked
// whole for "zoe", "O'Sul" of "O'Sullivan" for "osul" and "Smith" of "Smith-Jones" for
// "smith". Text that no token matches is one unmarked segment.
func Highlight(text string, tokens []string) []Segment {
	if len(tokens) == 0 {
		// Nothing to mark: a search by id, email, phone or card alone.
		if text == "" {
			return nil
		}
		return []Segment{{Text: text}}
	}
	type char struct {
		end    int  // byte offset after the character in text
		before int  // length of the word's folded form before it
		folded int  // length it adds to the folded form; 0 for marks and apostrophes
		word   bool // part of a word (false: a separator)
	}
	var chars []char
	var words [][2]int // index range into chars
	var folded strings.Builder
	start, wordStart := 0, -1
	flush := func(end int) {
		if wordStart >= 0 {
			words = append(words, [2]int{wordStart, end})
			wordStart = -1
		}
	}
	var wordFolds []string
	for start < len(text) {
		r, size := utf8.DecodeRuneInString(text[start:])
		c := char{end: start + size}
		switch f := foldRune(r); {
		case f != "":
			if wordStart < 0 {
				wordStart = len(chars)
				folded.Reset()
			}
			c.word, c.before, c.folded = true, folded.Len(), len(f)
			folded.WriteString(f)
		case wordStart >= 0 && (unicode.Is(unicode.Mn, r) || r == '\'' || r == '’' || r == 'ʼ'):
			// Dropped by Fold without ending the word.
			c.word, c.before = true, folded.Len()
		default:
			if wordStart >= 0 {
				wordFolds = append(wordFolds, folded.String())
			}
			flush(len(chars))
		}
		chars = append(chars, c)
		start += size
	}
	if wordStart >= 0 {
		wordFolds = append(wordFolds, folded.String())
	}
	flush(len(chars))

	marked := make([]bool, len(chars))
	for i, w := range words {
		best := 0
		for _, t := range tokens {
			if len(t) > best && strings.HasPrefix(wordFolds[i], t) {
				best = len(t)
			}
		}
		for k := w[0]; k < w[1] && best > 0; k++ {
			if chars[k].folded > 0 {
				marked[k] = chars[k].before < best
			} else if k > w[0] {
				// A mark or an apostrophe goes with the character before it.
				marked[k] = marked[k-1]
			}
		}
	}
	var out []Segment
	from := 0
	for k := range chars {
		if k+1 == len(chars) || marked[k+1] != marked[k] {
			out = append(out, Segment{Text: text[from:chars[k].end], Match: marked[k]})
			from = chars[k].end
		}
	}
	return out
}

// asciiFolds is Fold of each ASCII character alone: itself in lower case for a letter or a
// digit, nothing for anything else.
var asciiFolds = func() (out [utf8.RuneSelf]string) {
	for c := range out {
		out[c] = Fold(string(rune(c)))
	}
	return out
}()

// foldRune is Fold(string(r)) without normalising a string for the ASCII letters and digits
// most names are made of.
func foldRune(r rune) string {
	if r >= 0 && r < utf8.RuneSelf {
		return asciiFolds[r]
	}
	return Fold(string(r))
}

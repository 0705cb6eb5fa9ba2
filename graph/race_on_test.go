//go:build race

package graph_test

// raceDetector: the race detector makes lexing a 500 KB literal about 20
// times slower; TestAnonymousQueriesStaySmall (about memory, not races)
// skips under it.
const raceDetector = true
